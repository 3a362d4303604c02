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

}  // namespace

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
      f("model.dispatch_bytes", FT::Number, 2, 0.125, 8,
        "bytes per payload element in dispatch (1 = fp8, 2 = bf16), scales excluded"),
      f("model.dispatch_scale_bytes", FT::Number, 0, 0, 8,
        "bytes of each block scale sent with the dispatch payload (fp8 with fp32 scales: 4; 0 = none)"),
      f("model.scale_block", FT::Integer, 128, 1, 1000000, "payload elements per scale (fp8 blocks of 128)"),
      f("model.combine_bytes", FT::Number, 2, 0.125, 8, "bytes per element in combine"),
      f("model.backward", FT::Boolean, true, {}, {}, "include the two backward all-to-alls"),
      f("model.backward_bytes", FT::Number, 2, 0.125, 8, "bytes per element of gradients"),
      f("comm.algorithm", FT::String, "flat", {}, {},
        "dispatch/combine algorithm: flat (NCCL all-to-all, a copy per token and expert), hierarchical "
        "(a copy per token and node over RDMA, NVLink forwarding inside), low_latency (direct writes)",
        algorithmNames()),
      f("comm.max_nodes_per_token", FT::Integer, 0, 0, 65536,
        "node-limited routing: a token's experts lie in at most this many nodes (0 = no limit)"),
      f("comm.launch_us", FT::Number, -1, -1, {}, "kernel floor per collective, us (-1 = algorithm default)"),
      f("comm.per_peer_us", FT::Number, -1, -1, {}, "overhead per peer exchanged with, us (-1 = default)"),
      f("comm.per_node_us", FT::Number, -1, -1, {},
        "latency added per further node, us (-1 = algorithm default)"),
      f("comm.nic_efficiency", FT::Number, -1, -1, 1,
        "achieved fraction of NIC line rate (-1 = algorithm default; flat: cluster.nic_efficiency curve)"),
      f("comm.nvlink_efficiency", FT::Number, -1, -1, 1,
        "achieved fraction of NVLink rate (-1 = default: the cluster's intra-node efficiency)"),
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
      f("traffic.counts_by_source", FT::Array, nlohmann::json::array(), {}, {},
        "kind = counts, optional: per layer, tokens per expert from each data-parallel shard "
        "(GPU g routes like shard g mod shards)"),
      f("sim.steps", FT::Integer, 100, 1, 1000000, "simulated training steps"),
      f("sim.seed", FT::Integer, 1, 0, {}, "seed for traffic generation"),
      f("compare.strategies", FT::Array, nlohmann::json::array({"replicate_hot", "greedy_rebalance"}), {}, {},
        "reassignment strategies to compare: replicate_hot, greedy_rebalance"),
      f("compare.placements", FT::Array, nlohmann::json::array({"round_robin"}), {}, {},
        "other placements to compare: contiguous, round_robin"),
      f("compare.algorithms", FT::Array, nlohmann::json::array({"flat", "hierarchical", "low_latency"}), {},
        {}, "other dispatch algorithms to compare: flat, hierarchical, low_latency"),
      f("compare.uniform", FT::Boolean, true, {}, {}, "include balanced (uniform) traffic as the reference"),
      f("validation.metric", FT::String, "none", {}, {},
        "published figure this scenario reproduces (experiments/sim/validation)",
        {"none", "busbw_GBps", "algbw_GBps", "time_us", "rdma_logical_GBps", "nvlink_logical_GBps"}),
      f("validation.collective", FT::String, "dispatch", {}, {}, "collective the reference measured",
        {"dispatch", "combine", "combine_backward", "dispatch_backward"}),
      f("validation.reference", FT::Number, 0, 0, {}, "the published value, in the metric's unit"),
      f("validation.source", FT::String, "", {}, {}, "where the reference comes from"),
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
  s.dispatchScaleBytes = m["dispatch_scale_bytes"];
  s.scaleBlock = m["scale_block"];
  const auto& comm = j["comm"];
  s.comm.algorithm = parseAlgorithm(comm["algorithm"]);
  s.comm.maxNodesPerToken = comm["max_nodes_per_token"];
  s.comm.costs = AlgorithmCosts::defaults(s.comm.algorithm, s.cluster);
  for (auto [key, target] : {std::pair{"launch_us", &s.comm.costs.launchUs},
                             {"per_peer_us", &s.comm.costs.perPeerUs},
                             {"per_node_us", &s.comm.costs.perNodeUs},
                             {"nic_efficiency", &s.comm.costs.nicEfficiency},
                             {"nvlink_efficiency", &s.comm.costs.nvlinkEfficiency}})
    if (comm[key].get<double>() >= 0) *target = comm[key];
  for (const char* key : {"nic_efficiency", "nvlink_efficiency"})
    if (comm[key].get<double>() == 0)
      throw ConfigError(std::string("comm.") + key +
                        ": expected -1 (default) or a fraction in (0, 1], got 0");
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
  const auto& bySource = t["counts_by_source"];
  for (size_t l = 0; l < bySource.size(); ++l) {
    const std::string path = "traffic.counts_by_source[" + std::to_string(l) + "]";
    if (!bySource[l].is_array()) throw ConfigError(path + ": expected an array of per-shard arrays");
    std::vector<std::vector<double>> shards;
    for (size_t g = 0; g < bySource[l].size(); ++g)
      shards.push_back(arrayOf<double>(bySource[l][g], path + "[" + std::to_string(g) + "]"));
    if (l > 0 && shards.size() != s.traffic.countsBySource.front().size())
      throw ConfigError(path + ": expected " + std::to_string(s.traffic.countsBySource.front().size()) +
                        " shards like layer 0, got " + std::to_string(shards.size()));
    s.traffic.countsBySource.push_back(std::move(shards));
  }
  if (!s.traffic.countsBySource.empty() && s.traffic.kind != "counts")
    throw ConfigError("traffic.counts_by_source: only with traffic.kind = counts (got \"" + s.traffic.kind +
                      "\"); clear it or set the per-layer counts");
  if (!s.traffic.countsBySource.empty() && s.traffic.countsBySource.size() != s.traffic.counts.size())
    throw ConfigError("traffic.counts_by_source: expected " + std::to_string(s.traffic.counts.size()) +
                      " layers like traffic.counts, got " + std::to_string(s.traffic.countsBySource.size()));
  s.steps = j["sim"]["steps"];
  s.seed = j["sim"]["seed"];
  s.compareStrategies = arrayOf<std::string>(j["compare"]["strategies"], "compare.strategies");
  s.comparePlacements = arrayOf<std::string>(j["compare"]["placements"], "compare.placements");
  s.compareAlgorithms = arrayOf<std::string>(j["compare"]["algorithms"], "compare.algorithms");
  s.compareUniform = j["compare"]["uniform"];
  for (size_t i = 0; i < s.compareAlgorithms.size(); ++i) try {
      parseAlgorithm(s.compareAlgorithms[i]);
    } catch (const ConfigError&) {
      throw ConfigError("compare.algorithms[" + std::to_string(i) +
                        "]: expected flat, hierarchical or low_latency, got \"" + s.compareAlgorithms[i] +
                        "\"");
    }
  const auto& v = j["validation"];
  s.validationMetric = v["metric"];
  s.validationCollective = v["collective"];
  s.validationReference = v["reference"];
  s.validationSource = v["source"];
  if (s.validationMetric != "none" && s.validationReference <= 0)
    throw ConfigError("validation.reference: expected the published value (> 0) for metric " +
                      s.validationMetric);
  if (s.validationMetric != "none" && !s.backward &&
      (s.validationCollective == "combine_backward" || s.validationCollective == "dispatch_backward"))
    throw ConfigError("validation.collective: " + s.validationCollective + " needs model.backward = true");
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
  for (int l = 0; l < s.layers; ++l) sourcePopularities(s.traffic, s.experts, l, s.cluster.gpus(), rng);
  makePlacement(s, s.placement, std::vector<double>(size_t(s.experts), 1.0));
  return s;
}

Scenario Scenario::load(const std::string& path, const std::vector<std::string>& overrides) {
  return fromJson(schema().readDocument(path, overrides));
}

nlohmann::json withMeasuredTraffic(nlohmann::json doc, const MeasuredTraffic& m) {
  if (m.counts.empty() || m.counts.front().empty())
    throw UserError("measured traffic: no expert counts to use (empty per-layer arrays)");
  doc["traffic"]["kind"] = "counts";
  doc["traffic"]["counts"] = m.counts;
  // Always replaced: a previous profile's shards must not outlive its counts.
  doc["traffic"]["counts_by_source"] = m.bySource;
  doc["model"]["num_experts"] = int64_t(m.counts.front().size());
  doc["model"]["layers"] = int64_t(m.counts.size());
  if (m.topK > 0) doc["model"]["top_k"] = m.topK;
  return doc;
}

}  // namespace moelab::sim
