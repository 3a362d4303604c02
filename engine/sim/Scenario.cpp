#include "sim/Scenario.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>

#include "sim/AllToAllModel.h"
#include "sim/Placement.h"
#include "util/Errors.h"

namespace moelab::sim {
namespace {

ConfigField f(std::string path, FieldType t, nlohmann::json def, std::optional<double> min,
              std::optional<double> max, std::string help, std::vector<std::string> choices = {}) {
  return {std::move(path), t, std::move(def), min, max, false, std::move(choices), std::move(help), "all"};
}
using FT = FieldType;

template <class T>
std::vector<T> arrayOf(const nlohmann::json& j, const std::string& path) {
  try {
    return j.get<std::vector<T>>();
  } catch (const nlohmann::json::exception&) {
    throw ConfigError(path + ": expected an array of " +
                      (std::is_same_v<T, std::string> ? "strings" : "numbers") + ", got " + j.dump());
  }
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  double pos = q * double(v.size() - 1);
  size_t lo = size_t(std::floor(pos)), hi = std::min(v.size() - 1, lo + 1);
  return v[lo] + (pos - double(lo)) * (v[hi] - v[lo]);
}

Placement makePlacement(const Scenario& s, const std::string& kind, const std::vector<double>& load) {
  const int G = s.cluster.gpus();
  Placement p = kind == "round_robin"        ? Placement::roundRobin(s.experts, G)
                : kind == "custom"           ? Placement::custom(s.placementMap, G)
                : kind == "greedy_rebalance" ? Placement::greedyBalanced(load, G, s.cluster.gpusPerNode)
                                             : Placement::contiguous(s.experts, G);
  if (kind == "custom" && int(s.placementMap.size()) != s.experts)
    throw ConfigError("placement.map: expected " + std::to_string(s.experts) +
                      " GPU indices (one per expert), got " + std::to_string(s.placementMap.size()));
  return p;
}

struct VariantResult {
  std::vector<double> stepSeconds;
  std::vector<double> gpuSentBytes, gpuFinishSeconds;  // means over steps, first layer's dispatch
  std::vector<double> gpuCombineSeconds;               // means over steps, first layer's combine
  double bytesPerStep = 0, interBytesPerStep = 0;
  double dispatchSeconds = 0, latencySeconds = 0;  // means, first layer's forward dispatch
  std::map<std::string, int> bottlenecks;
  std::vector<double> firstDispatchShare, firstDispatchSource;
};

// One variant: a placement strategy applied to a traffic spec, over all steps.
VariantResult simulateVariant(const Scenario& s, const TrafficSpec& traffic, const std::string& placementKind,
                              int replicate) {
  const int G = s.cluster.gpus();
  std::mt19937_64 rng(s.seed);
  std::vector<std::vector<double>> base;
  for (int l = 0; l < s.layers; ++l) base.push_back(basePopularity(traffic, s.experts, l, rng));
  // Placement is decided once, from the expected load (what a rebalancer would know).
  std::vector<double> expected(size_t(s.experts), 0.0);
  for (auto& b : base)
    for (size_t e = 0; e < b.size(); ++e) expected[e] += b[e];
  Placement placement = makePlacement(s, placementKind, expected);
  if (replicate > 0) placement.replicateHottest(expected, replicate, G);

  VariantResult r;
  r.gpuSentBytes.assign(size_t(G), 0.0);
  r.gpuFinishSeconds.assign(size_t(G), 0.0);
  r.gpuCombineSeconds.assign(size_t(G), 0.0);
  std::normal_distribution<double> z(0.0, 1.0);
  const double perToken = double(s.topK) * double(s.hidden);
  for (int step = 0; step < s.steps; ++step) {
    double stepTime = 0;
    for (int l = 0; l < s.layers; ++l) {
      AllToAllTraffic dispatch;
      dispatch.destShare = placement.gpuShare(stepPopularity(base[size_t(l)], traffic.variation, rng), G);
      dispatch.sourceBytes.resize(size_t(G));
      for (int g = 0; g < G; ++g) {
        double noise = traffic.sourceVariation > 0
                           ? std::exp(traffic.sourceVariation * z(rng) -
                                      0.5 * traffic.sourceVariation * traffic.sourceVariation)
                           : 1.0;
        dispatch.sourceBytes[size_t(g)] = double(s.tokensPerGpu) * noise * perToken * s.dispatchBytes;
      }
      auto fwdDispatch = simulateAllToAll(s.cluster, dispatch);
      auto fwdCombine = simulateAllToAll(s.cluster, transposed(dispatch, s.combineBytes / s.dispatchBytes));
      stepTime += fwdDispatch.seconds + fwdCombine.seconds;
      r.bytesPerStep +=
          (fwdDispatch.intraBytes + fwdDispatch.interBytes) + (fwdCombine.intraBytes + fwdCombine.interBytes);
      r.interBytesPerStep += fwdDispatch.interBytes + fwdCombine.interBytes;
      if (s.backward) {
        // Gradients retrace both exchanges in reverse: combine's gradient goes the dispatch way.
        double ratio = s.backwardBytes / s.dispatchBytes;
        AllToAllTraffic gradDispatch = dispatch;
        for (auto& b : gradDispatch.sourceBytes) b *= ratio;
        auto bwd1 = simulateAllToAll(s.cluster, gradDispatch);
        auto bwd2 = simulateAllToAll(s.cluster, transposed(dispatch, ratio));
        stepTime += bwd1.seconds + bwd2.seconds;
        r.bytesPerStep += bwd1.intraBytes + bwd1.interBytes + bwd2.intraBytes + bwd2.interBytes;
        r.interBytesPerStep += bwd1.interBytes + bwd2.interBytes;
      }
      if (l == 0) {
        for (int g = 0; g < G; ++g) {
          r.gpuSentBytes[size_t(g)] += fwdDispatch.sentBytes[size_t(g)] / s.steps;
          r.gpuFinishSeconds[size_t(g)] += fwdDispatch.finishSeconds[size_t(g)] / s.steps;
          r.gpuCombineSeconds[size_t(g)] += fwdCombine.finishSeconds[size_t(g)] / s.steps;
        }
        r.dispatchSeconds += fwdDispatch.seconds / s.steps;
        r.latencySeconds += fwdDispatch.latencySeconds / s.steps;
        r.bottlenecks[fwdDispatch.bottleneck]++;
        if (step == 0) {
          r.firstDispatchShare = dispatch.destShare;
          r.firstDispatchSource = dispatch.sourceBytes;
        }
      }
    }
    r.stepSeconds.push_back(stepTime);
  }
  r.bytesPerStep /= s.steps;
  r.interBytesPerStep /= s.steps;
  return r;
}

std::vector<double> toMs(const std::vector<double>& seconds) {
  std::vector<double> ms;
  for (double x : seconds) ms.push_back(x * 1e3);
  return ms;
}

nlohmann::json summary(const std::string& name, const VariantResult& v, double balancedMean) {
  double mean =
      std::accumulate(v.stepSeconds.begin(), v.stepSeconds.end(), 0.0) / double(v.stepSeconds.size());
  std::string bottleneck;
  int most = -1;
  for (auto& [k, n] : v.bottlenecks)
    if (n > most) most = n, bottleneck = k;
  return {{"name", name},
          {"mean_ms", mean * 1e3},
          {"p50_ms", percentile(v.stepSeconds, 0.5) * 1e3},
          {"p95_ms", percentile(v.stepSeconds, 0.95) * 1e3},
          {"p99_ms", percentile(v.stepSeconds, 0.99) * 1e3},
          {"slowdown_vs_balanced", balancedMean > 0 ? mean / balancedMean : 1.0},
          {"bytes_per_step", v.bytesPerStep},
          {"inter_node_bytes_per_step", v.interBytesPerStep},
          {"bottleneck", bottleneck}};
}

}  // namespace

const ConfigSchema& Scenario::schema() {
  static const ConfigSchema s({
      f("cluster.preset", FT::String, "dgx-h100", {}, {}, "cluster preset", ClusterSpec::presetNames()),
      f("cluster.nodes", FT::Integer, 1, 1, 65536, "nodes"),
      f("cluster.gpus_per_node", FT::Integer, 8, 1, 64, "GPUs per node"),
      f("cluster.intra_gbps", FT::Number, 0, 0, {},
        "per-GPU intra-node bandwidth, GB/s one way (0 = preset)"),
      f("cluster.intra_latency_us", FT::Number, -1, -1, {}, "intra-node latency, us (-1 = preset)"),
      f("cluster.nic_gbit", FT::Number, 0, 0, {}, "NIC line rate, Gb/s (0 = preset)"),
      f("cluster.nics_per_node", FT::Integer, 0, 0, 64,
        "NICs per node (0 = preset); fewer than GPUs means sharing"),
      f("cluster.inter_latency_us", FT::Number, -1, -1, {}, "inter-node base latency, us (-1 = preset)"),
      f("cluster.switch_hops", FT::Integer, -1, -1, 16, "switch hops between nodes (-1 = preset)"),
      f("cluster.hop_delay_us", FT::Number, -1, -1, {}, "delay per hop, us (-1 = preset)"),
      f("cluster.oversubscription", FT::Number, 0, 0, {},
        "inter-node fabric oversubscription (0 = preset, 1 = none)"),
      f("cluster.intra_efficiency", FT::Array, nlohmann::json::array(), {}, {},
        "calibration [[message bytes, efficiency], ...] for NVLink ([] = preset)"),
      f("cluster.nic_efficiency", FT::Array, nlohmann::json::array(), {}, {},
        "calibration table for NICs ([] = preset)"),
      f("model.num_experts", FT::Integer, 64, 1, 1000000, "routed experts per MoE layer"),
      f("model.top_k", FT::Integer, 2, 1, 64, "experts per token"),
      f("model.hidden", FT::Integer, 4096, 1, {}, "hidden size (elements per token sent)"),
      f("model.layers", FT::Integer, 1, 1, 1000, "MoE layers per step"),
      f("model.tokens_per_gpu", FT::Integer, 4096, 1, {}, "tokens each GPU routes per layer and step"),
      f("model.dispatch_bytes", FT::Number, 2, 0.125, 8, "bytes per element in dispatch (1 = fp8, 2 = bf16)"),
      f("model.combine_bytes", FT::Number, 2, 0.125, 8, "bytes per element in combine"),
      f("model.backward", FT::Boolean, true, {}, {}, "include the two backward all-to-alls"),
      f("model.backward_bytes", FT::Number, 2, 0.125, 8, "bytes per element of gradients"),
      f("placement.kind", FT::String, "contiguous", {}, {}, "expert placement",
        {"contiguous", "round_robin", "custom", "greedy_rebalance"}),
      f("placement.map", FT::Array, nlohmann::json::array(), {}, {},
        "kind = custom: GPU index of each expert"),
      f("placement.replicate_hot", FT::Integer, 0, 0, {}, "one extra copy of each of the N hottest experts"),
      f("traffic.kind", FT::String, "uniform", {}, {}, "token-to-expert distribution",
        {"uniform", "zipf", "hot", "gini", "counts"}),
      f("traffic.zipf_s", FT::Number, 1.0, 0, 10, "Zipf exponent"),
      f("traffic.hot_max_over_mean", FT::Number, 4.0, 1, {},
        "hot-expert load / mean load; at most model.num_experts (all tokens to one expert)"),
      f("traffic.gini", FT::Number, 0.3, 0, 1,
        "target Gini coefficient of expert loads; must be below 1 - 1/num_experts (one expert takes all)"),
      f("traffic.variation", FT::Number, 0.0, 0, 5, "per-step lognormal noise (sigma) on expert popularity"),
      f("traffic.source_variation", FT::Number, 0.0, 0, 5,
        "per-step lognormal noise on each GPU's token count"),
      f("traffic.shuffle", FT::Boolean, true, {}, {}, "scatter popular experts over ids (seeded)"),
      f("traffic.counts", FT::Array, nlohmann::json::array(), {}, {},
        "kind = counts: tokens per expert, one array per layer (e.g. from a routing profile)"),
      f("sim.steps", FT::Integer, 100, 1, 1000000, "simulated training steps"),
      f("sim.seed", FT::Integer, 1, 0, {}, "seed for traffic generation"),
      f("compare.strategies", FT::Array, nlohmann::json::array({"replicate_hot", "greedy_rebalance"}), {}, {},
        "reassignment strategies to compare: replicate_hot, greedy_rebalance"),
      f("compare.placements", FT::Array, nlohmann::json::array({"round_robin"}), {}, {},
        "other placements to compare: contiguous, round_robin"),
      f("compare.uniform", FT::Boolean, true, {}, {}, "include balanced (uniform) traffic as the reference"),
  });
  return s;
}

Scenario Scenario::fromJson(const nlohmann::json& doc) {
  Scenario s;
  s.json = schema().validate(doc);
  const auto& j = s.json;
  const auto& c = j["cluster"];
  s.cluster = ClusterSpec::preset(c["preset"]);
  s.cluster.nodes = c["nodes"];
  s.cluster.gpusPerNode = c["gpus_per_node"];
  if (c["intra_gbps"].get<double>() > 0) s.cluster.intraGBps = c["intra_gbps"];
  if (c["intra_latency_us"].get<double>() >= 0) s.cluster.intraLatencyUs = c["intra_latency_us"];
  if (c["nic_gbit"].get<double>() > 0) s.cluster.nicGbps = c["nic_gbit"];
  s.cluster.nicsPerNode = c["nics_per_node"].get<int>() > 0
                              ? c["nics_per_node"].get<int>()
                              : (c["preset"] == "ethernet" ? s.cluster.nicsPerNode : s.cluster.gpusPerNode);
  if (c["inter_latency_us"].get<double>() >= 0) s.cluster.interLatencyUs = c["inter_latency_us"];
  if (c["switch_hops"].get<int>() >= 0) s.cluster.switchHops = c["switch_hops"];
  if (c["hop_delay_us"].get<double>() >= 0) s.cluster.hopDelayUs = c["hop_delay_us"];
  if (c["oversubscription"].get<double>() > 0) {
    if (c["oversubscription"].get<double>() < 1.0)
      throw ConfigError("cluster.oversubscription: expected 0 (preset) or a number >= 1, got " +
                        c["oversubscription"].dump());
    s.cluster.oversubscription = c["oversubscription"];
  }
  for (auto [key, curve] : {std::pair{"intra_efficiency", &s.cluster.intraEfficiency},
                            {"nic_efficiency", &s.cluster.nicEfficiency}}) {
    if (c[key].empty()) continue;
    curve->points.clear();
    for (size_t i = 0; i < c[key].size(); ++i) {
      const auto& p = c[key][i];
      std::string path = std::string("cluster.") + key + "[" + std::to_string(i) + "]";
      if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number() ||
          p[0].get<double>() <= 0 || p[1].get<double>() <= 0 || p[1].get<double>() > 1)
        throw ConfigError(path + ": expected [message bytes > 0, efficiency in (0, 1]], got " + p.dump());
      if (!curve->points.empty() && p[0].get<double>() <= curve->points.back().first)
        throw ConfigError(path + ": message sizes must increase, got " + p.dump());
      curve->points.emplace_back(p[0].get<double>(), p[1].get<double>());
    }
  }
  const auto& m = j["model"];
  s.experts = m["num_experts"];
  s.topK = m["top_k"];
  s.hidden = m["hidden"];
  s.layers = m["layers"];
  s.tokensPerGpu = m["tokens_per_gpu"];
  s.dispatchBytes = m["dispatch_bytes"];
  s.combineBytes = m["combine_bytes"];
  s.backward = m["backward"];
  s.backwardBytes = m["backward_bytes"];
  if (s.topK > s.experts)
    throw ConfigError("model.top_k: expected <= model.num_experts (" + std::to_string(s.experts) + "), got " +
                      std::to_string(s.topK));
  // The traffic matrix alone is GPUs^2 doubles per exchange: bound the cluster so a typo cannot
  // run the machine out of memory (8,192 GPUs: 0.5 GB).
  constexpr int kMaxGpus = 8192;
  if (s.cluster.gpus() > kMaxGpus)
    throw ConfigError("cluster: " + std::to_string(s.cluster.nodes) + " nodes x " +
                      std::to_string(s.cluster.gpusPerNode) + " GPUs = " + std::to_string(s.cluster.gpus()) +
                      " GPUs, more than the simulator's " + std::to_string(kMaxGpus) +
                      " (its traffic matrix grows with GPUs^2); use fewer nodes");
  const auto& p = j["placement"];
  s.placement = p["kind"];
  s.placementMap = arrayOf<int>(p["map"], "placement.map");
  s.replicateHot = p["replicate_hot"];
  if (s.replicateHot > s.experts)
    throw ConfigError("placement.replicate_hot: expected at most model.num_experts (" +
                      std::to_string(s.experts) + "), got " + std::to_string(s.replicateHot));
  const auto& t = j["traffic"];
  s.traffic.kind = t["kind"];
  s.traffic.zipfS = t["zipf_s"];
  s.traffic.hotMaxOverMean = t["hot_max_over_mean"];
  s.traffic.gini = t["gini"];
  s.traffic.variation = t["variation"];
  s.traffic.sourceVariation = t["source_variation"];
  s.traffic.shuffle = t["shuffle"];
  for (size_t l = 0; l < t["counts"].size(); ++l)
    s.traffic.counts.push_back(arrayOf<double>(t["counts"][l], "traffic.counts[" + std::to_string(l) + "]"));
  s.steps = j["sim"]["steps"];
  s.seed = j["sim"]["seed"];
  s.compareStrategies = arrayOf<std::string>(j["compare"]["strategies"], "compare.strategies");
  s.comparePlacements = arrayOf<std::string>(j["compare"]["placements"], "compare.placements");
  s.compareUniform = j["compare"]["uniform"];
  for (size_t i = 0; i < s.compareStrategies.size(); ++i)
    if (s.compareStrategies[i] != "replicate_hot" && s.compareStrategies[i] != "greedy_rebalance")
      throw ConfigError("compare.strategies[" + std::to_string(i) +
                        "]: expected replicate_hot or greedy_rebalance, got \"" + s.compareStrategies[i] +
                        "\"");
  for (size_t i = 0; i < s.comparePlacements.size(); ++i)
    if (s.comparePlacements[i] != "contiguous" && s.comparePlacements[i] != "round_robin")
      throw ConfigError("compare.placements[" + std::to_string(i) +
                        "]: expected contiguous or round_robin, got \"" + s.comparePlacements[i] + "\"");
  // Surface traffic and placement errors now, with their paths, rather than mid-run.
  std::mt19937_64 rng(s.seed);
  for (int l = 0; l < s.layers; ++l) basePopularity(s.traffic, s.experts, l, rng);
  makePlacement(s, s.placement, std::vector<double>(size_t(s.experts), 1.0));
  return s;
}

Scenario Scenario::load(const std::string& path, const std::vector<std::string>& overrides) {
  return fromJson(schema().readDocument(path, overrides));
}

nlohmann::json withMeasuredTraffic(nlohmann::json doc, const std::vector<std::vector<double>>& counts,
                                   int topK) {
  if (counts.empty() || counts.front().empty())
    throw UserError("measured traffic: no expert counts to use (empty per-layer arrays)");
  doc["traffic"]["kind"] = "counts";
  doc["traffic"]["counts"] = counts;
  doc["model"]["num_experts"] = int64_t(counts.front().size());
  doc["model"]["layers"] = int64_t(counts.size());
  if (topK > 0) doc["model"]["top_k"] = topK;
  return doc;
}

std::vector<double> simulateStepTimes(const Scenario& s) {
  return simulateVariant(s, s.traffic, s.placement, s.replicateHot).stepSeconds;
}

nlohmann::json runScenario(const Scenario& s) {
  const int G = s.cluster.gpus();
  VariantResult main = simulateVariant(s, s.traffic, s.placement, s.replicateHot);
  TrafficSpec uniform = s.traffic;
  uniform.kind = "uniform";
  uniform.variation = 0;
  uniform.sourceVariation = 0;
  VariantResult balanced = simulateVariant(s, uniform, "contiguous", 0);
  auto meanOf = [](const VariantResult& v) {
    return std::accumulate(v.stepSeconds.begin(), v.stepSeconds.end(), 0.0) / double(v.stepSeconds.size());
  };
  const double balancedMean = meanOf(balanced);

  nlohmann::json comparison = nlohmann::json::array();
  comparison.push_back(
      summary("configured (" + s.traffic.kind + ", " + s.placement + ")", main, balancedMean));
  if (s.compareUniform) comparison.push_back(summary("balanced (uniform traffic)", balanced, balancedMean));
  for (const auto& strategy : s.compareStrategies) {
    VariantResult v = strategy == "replicate_hot"
                          ? simulateVariant(s, s.traffic, s.placement,
                                            std::max(1, s.replicateHot > 0 ? s.replicateHot : G / 8))
                          : simulateVariant(s, s.traffic, "greedy_rebalance", s.replicateHot);
    comparison.push_back(summary(strategy, v, balancedMean));
  }
  for (const auto& placement : s.comparePlacements)
    if (placement != s.placement)
      comparison.push_back(summary("placement " + placement,
                                   simulateVariant(s, s.traffic, placement, s.replicateHot), balancedMean));

  // Traffic matrix of the first layer's forward dispatch at step 0: GPU x GPU up to 64 GPUs,
  // node x node beyond (a 1,024-GPU matrix is a million cells nobody can read).
  const bool perGpu = G <= 64;
  const int cells = perGpu ? G : s.cluster.nodes, per = perGpu ? 1 : s.cluster.gpusPerNode;
  std::vector<std::vector<double>> matrix(size_t(cells), std::vector<double>(size_t(cells), 0.0));
  for (int a = 0; a < G; ++a)
    for (int b = 0; b < G; ++b)
      if (a != b)
        matrix[size_t(a / per)][size_t(b / per)] +=
            main.firstDispatchSource[size_t(a)] * main.firstDispatchShare[size_t(b)];

  const double mainMean = meanOf(main);
  const double dispatchBalanced = balanced.dispatchSeconds;
  nlohmann::json breakdown = {
      {"dispatch_ms", main.dispatchSeconds * 1e3},
      {"balanced_dispatch_ms", dispatchBalanced * 1e3},
      {"imbalance_ms", std::max(0.0, main.dispatchSeconds - dispatchBalanced) * 1e3},
      {"latency_ms", main.latencySeconds * 1e3},
      {"bandwidth_ms",
       std::max(0.0, std::min(main.dispatchSeconds, dispatchBalanced) - main.latencySeconds) * 1e3},
      {"bottleneck_counts", main.bottlenecks}};
  nlohmann::json stepsMs = nlohmann::json::array();
  for (double t : main.stepSeconds) stepsMs.push_back(t * 1e3);
  return {{"scenario", s.json},
          {"cluster", s.cluster.toJson()},
          {"gpus", G},
          {"step_ms",
           {{"mean", mainMean * 1e3},
            {"p50", percentile(main.stepSeconds, 0.5) * 1e3},
            {"p95", percentile(main.stepSeconds, 0.95) * 1e3},
            {"p99", percentile(main.stepSeconds, 0.99) * 1e3},
            {"samples", stepsMs}}},
          {"slowdown_vs_balanced", balancedMean > 0 ? mainMean / balancedMean : 1.0},
          {"breakdown", breakdown},
          {"per_gpu",
           {{"sent_bytes", main.gpuSentBytes},
            {"finish_ms", toMs(main.gpuFinishSeconds)},
            {"combine_finish_ms", toMs(main.gpuCombineSeconds)}}},
          {"gpus_per_node", s.cluster.gpusPerNode},
          {"traffic_matrix", {{"unit", perGpu ? "gpu" : "node"}, {"bytes", matrix}}},
          {"comparison", comparison}};
}

}  // namespace moelab::sim
