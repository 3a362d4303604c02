#include "train/RoutingMetrics.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "dist/DistributedContext.h"

namespace moelab {

std::vector<RoutingStats> routingOverRanks(DistributedContext& dist, std::vector<RoutingStats> layers,
                                           int64_t numExperts, bool computed) {
  std::vector<double> v;
  for (auto& l : layers) {
    l.tokensPerExpert.resize(size_t(numExperts), 0);
    const double w = computed ? double(l.assignments) : 0.0;
    for (auto c : l.tokensPerExpert) v.push_back(computed ? double(c) : 0.0);
    v.insert(v.end(), {w, computed ? double(l.dropped) : 0.0, computed ? double(l.capacity) : 0.0,
                       l.auxLoss * w, l.zLoss * w, l.routerEntropy * w, l.top1Probability * w});
  }
  v = dist.allReduceSum(v);
  size_t at = 0;
  for (auto& l : layers) {
    for (auto& c : l.tokensPerExpert) c = std::llround(v[at++]);
    const double w = v[at++];
    l.assignments = std::llround(w);
    l.dropped = std::llround(v[at++]);
    l.capacity = std::llround(v[at++]);
    for (double* mean : {&l.auxLoss, &l.zLoss, &l.routerEntropy, &l.top1Probability}) {
      const double weighted = v[at++];
      *mean = w > 0 ? weighted / w : 0.0;
    }
  }
  return layers;
}

void recordRouting(const std::vector<RoutingStats>& layers, int64_t step, double wallTime,
                   std::vector<MetricPoint>& out, MetricSink* sink) {
  if (layers.empty()) return;
  struct Metric {
    const char* name;
    double (*of)(const RoutingStats&);
  };
  static const Metric metrics[] = {
      {"cv", [](const RoutingStats& r) { return r.coefficientOfVariation(); }},
      {"load_entropy", [](const RoutingStats& r) { return r.normalisedEntropy(); }},
      {"gini", [](const RoutingStats& r) { return r.gini(); }},
      {"max_vio", [](const RoutingStats& r) { return r.maxViolation(); }},
      {"dead_experts", [](const RoutingStats& r) { return double(r.deadExperts()); }},
      {"dropped_fraction", [](const RoutingStats& r) { return r.droppedFraction(); }},
      {"router_entropy", [](const RoutingStats& r) { return r.routerEntropy; }},
      {"top1_prob", [](const RoutingStats& r) { return r.top1Probability; }},
      {"aux_loss", [](const RoutingStats& r) { return r.auxLoss; }},
      {"z_loss", [](const RoutingStats& r) { return r.zLoss; }},
  };
  nlohmann::json counts = nlohmann::json::array();
  for (size_t l = 0; l < layers.size(); ++l) {
    const std::string prefix = "moe/layer" + std::to_string(l) + "/";
    for (const auto& m : metrics) out.push_back({prefix + m.name, step, m.of(layers[l]), wallTime});
    auto f = layers[l].loadFractions();
    for (size_t e = 0; e < f.size(); ++e)
      out.push_back({prefix + "load/" + std::to_string(e), step, f[e], wallTime});
    out.push_back({prefix + "tokens", step, double(layers[l].assignments), wallTime});
    counts.push_back(layers[l].tokensPerExpert);
  }
  for (const auto& m : metrics) {
    double sum = 0, mx = -1e300;
    for (const auto& r : layers) {
      sum += m.of(r);
      mx = std::max(mx, m.of(r));
    }
    out.push_back({std::string("moe/") + m.name + "_mean", step, sum / double(layers.size()), wallTime});
    out.push_back({std::string("moe/") + m.name + "_max", step, mx, wallTime});
  }
  if (sink) sink->onArtifact("expert_counts", step, {{"layers", counts}});
}

}  // namespace moelab
