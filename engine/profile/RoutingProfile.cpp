#include "profile/RoutingProfile.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "io/CsvWriter.h"
#include "util/Errors.h"

namespace moelab {

LoadImbalance RoutingProfile::mean() const {
  LoadImbalance m;
  m.experts = experts;
  if (layers.empty()) return m;
  m.entropy = m.maxMean = m.maxMin = 0;
  for (const auto& l : layers) {
    const LoadImbalance x = l.imbalance();
    m.total += x.total;
    m.cv += x.cv;
    m.variance += x.variance;
    m.gini += x.gini;
    m.entropy += x.entropy;
    m.maxMean = std::max(m.maxMean, x.maxMean);
    m.maxMin = std::max(m.maxMin, x.maxMin);
    m.dead += x.dead;
  }
  const double n = double(layers.size());
  m.cv /= n;
  m.variance /= n;
  m.gini /= n;
  m.entropy /= n;
  return m;
}

sim::MeasuredTraffic RoutingProfile::traffic() const {
  sim::MeasuredTraffic t;
  t.topK = int(topK);
  bool split = !layers.empty();
  for (const auto& l : layers) {
    t.counts.emplace_back(l.counts.begin(), l.counts.end());
    split = split && !l.byShard.empty();
  }
  for (size_t i = 0; split && i < layers.size(); ++i) {
    std::vector<std::vector<double>> shards;
    for (const auto& c : layers[i].byShard) shards.emplace_back(c.begin(), c.end());
    t.bySource.push_back(std::move(shards));
  }
  return t;
}

nlohmann::json RoutingProfile::toJson() const {
  nlohmann::json ls = nlohmann::json::array();
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto& l = layers[i];
    nlohmann::json j = {
        {"layer", i}, {"counts", l.counts}, {"dropped", l.dropped}, {"metrics", l.imbalance().toJson()}};
    if (!l.byPosition.empty()) j["by_position"] = l.byPosition;
    if (!l.byShard.empty()) j["by_shard"] = l.byShard;
    ls.push_back(std::move(j));
  }
  nlohmann::json cs = nlohmann::json::array();
  for (size_t i = 0; i < couplings.size(); ++i)
    cs.push_back({{"layer", i},
                  {"effective", couplings[i].effective},
                  {"spread", couplings[i].spread},
                  {"share", couplings[i].share}});
  nlohmann::json out = {{"format", "moelab-routing-profile-v1"},
                        {"architecture", architecture},
                        {"source", source},
                        {"strategy", strategy},
                        {"experts", experts},
                        {"top_k", topK},
                        {"samples", samples},
                        {"tokens", tokens},
                        {"seq_len", seqLen},
                        {"position_buckets", positionBuckets},
                        {"shards", shards},
                        {"loss", lossMeasured ? nlohmann::json(loss) : nlohmann::json()},
                        {"perplexity", lossMeasured ? nlohmann::json(perplexity) : nlohmann::json()},
                        {"seconds", seconds},
                        {"layers", ls},
                        {"couplings", cs}};
  if (!layers.empty()) out["mean"] = mean().toJson();
  return out;
}

RoutingProfile RoutingProfile::fromJson(const nlohmann::json& j) {
  try {
    if (j.value("format", "") != "moelab-routing-profile-v1")
      throw UserError("not a MoE Lab routing profile (format \"" + j.value("format", "") + "\")");
    RoutingProfile p;
    p.architecture = j.at("architecture");
    p.source = j.at("source");
    p.strategy = j.value("strategy", "none");
    p.experts = j.at("experts");
    p.topK = j.at("top_k");
    p.samples = j.at("samples");
    p.tokens = j.at("tokens");
    p.seqLen = j.value("seq_len", 0);
    p.positionBuckets = j.value("position_buckets", 0);
    p.shards = j.value("shards", 0);
    p.lossMeasured = j.at("loss").is_number();
    p.loss = p.lossMeasured ? j["loss"].get<double>() : std::nan("");
    // A perplexity too large for a double is stored as null beside its finite loss.
    p.perplexity = !p.lossMeasured                                       ? std::nan("")
                   : j.value("perplexity", nlohmann::json()).is_number() ? j["perplexity"].get<double>()
                                                                         : std::exp(p.loss);
    p.seconds = j.value("seconds", 0.0);
    for (const auto& l : j.at("layers")) {
      LayerRouting r;
      r.counts = l.at("counts").get<std::vector<int64_t>>();
      r.dropped = l.value("dropped", int64_t(0));
      if (l.contains("by_position")) r.byPosition = l["by_position"].get<std::vector<std::vector<int64_t>>>();
      if (l.contains("by_shard")) r.byShard = l["by_shard"].get<std::vector<std::vector<int64_t>>>();
      if (int64_t(r.counts.size()) != p.experts)
        throw UserError("layer " + std::to_string(p.layers.size()) + " has " +
                        std::to_string(r.counts.size()) + " expert counts, expected " +
                        std::to_string(p.experts));
      p.layers.push_back(std::move(r));
    }
    for (const auto& c : j.value("couplings", nlohmann::json::array())) {
      LayerCoupling lc;
      lc.effective = c.at("effective").get<decltype(lc.effective)>();
      lc.spread = c.at("spread").get<decltype(lc.spread)>();
      lc.share = c.at("share").get<std::vector<double>>();
      p.couplings.push_back(std::move(lc));
    }
    return p;
  } catch (const nlohmann::json::exception& e) {
    throw UserError(std::string("routing profile: malformed JSON (") + e.what() + ")");
  }
}

void RoutingProfile::writeCsv(std::ostream& out) const {
  CsvWriter csv(out);
  const auto header = [&](const std::vector<std::string>& names) {
    for (const auto& n : names) csv.text(n);
    csv.endRow();
  };
  if (layers.empty()) {
    header({"layer", "expert", "output_share"});
    for (size_t l = 0; l < couplings.size(); ++l)
      for (size_t e = 0; e < couplings[l].share.size(); ++e) {
        csv.integer(int64_t(l)).integer(int64_t(e)).number(couplings[l].share[e]);
        csv.endRow();
      }
    return;
  }
  std::vector<std::string> names = {"layer", "expert", "assignments", "fraction"};
  for (int64_t b = 0; b < positionBuckets; ++b) names.push_back("position_" + std::to_string(b));
  for (int64_t g = 0; g < shards; ++g) names.push_back("shard_" + std::to_string(g));
  header(names);
  for (size_t l = 0; l < layers.size(); ++l) {
    const auto& r = layers[l];
    const double total = double(std::accumulate(r.counts.begin(), r.counts.end(), int64_t(0)));
    for (size_t e = 0; e < r.counts.size(); ++e) {
      csv.integer(int64_t(l)).integer(int64_t(e)).integer(r.counts[e]);
      csv.number(total > 0 ? double(r.counts[e]) / total : 0);
      for (const auto& b : r.byPosition) csv.integer(b[e]);
      for (const auto& g : r.byShard) csv.integer(g[e]);
      csv.endRow();
    }
  }
}

}  // namespace moelab
