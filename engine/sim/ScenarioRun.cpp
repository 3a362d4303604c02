// Running a Scenario: every variant over all steps, per-collective figures, the comparison table.
#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

#include "sim/AllToAllModel.h"
#include "sim/Scenario.h"

namespace moelab::sim {
namespace {

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  double pos = q * double(v.size() - 1);
  size_t lo = size_t(std::floor(pos)), hi = std::min(v.size() - 1, lo + 1);
  return v[lo] + (pos - double(lo)) * (v[hi] - v[lo]);
}

double meanOf(const std::vector<double>& v) {
  return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
}

// The four exchanges of one MoE layer. Backward retraces both in reverse: the gradient of the
// combine goes the dispatch way, the gradient of the dispatch the combine way.
constexpr std::array<const char*, 4> kCollectives = {"dispatch", "combine", "combine_backward",
                                                     "dispatch_backward"};
constexpr std::array<bool, 4> kReverse = {false, true, false, true};

// One collective of the first MoE layer, accumulated over steps (means after finish()).
struct CollectiveStats {
  double seconds = 0, bandwidth = 0, perPeer = 0, latency = 0;
  double nicBytes = 0, nvlinkBytes = 0, logicalBytes = 0, nodeLogicalBytes = 0, gpuLogicalBytes = 0;
  double nodeCopies = 0, gpuCopies = 0, expertCopies = 0;
  std::map<std::string, int> bounds;
  int samples = 0;
  void add(const CollectiveTiming& t, int gpus) {
    seconds += t.seconds;
    bandwidth += t.bandwidthSeconds;
    perPeer += t.perPeerSeconds;
    latency += t.latencySeconds;
    nicBytes += t.interBytes / gpus;
    nvlinkBytes += t.intraBytes / gpus;
    logicalBytes += t.volumes.logicalBytesPerGpu;
    nodeLogicalBytes += t.volumes.nodeLogicalBytesPerGpu;
    gpuLogicalBytes += t.volumes.gpuLogicalBytesPerGpu;
    nodeCopies += t.volumes.nodeCopiesPerToken;
    gpuCopies += t.volumes.gpuCopiesPerToken;
    expertCopies += t.volumes.expertCopiesPerToken;
    bounds[t.bottleneck]++;
    ++samples;
  }
  void finish() {
    if (samples == 0) return;
    for (double* x : {&seconds, &bandwidth, &perPeer, &latency, &nicBytes, &nvlinkBytes, &logicalBytes,
                      &nodeLogicalBytes, &gpuLogicalBytes, &nodeCopies, &gpuCopies, &expertCopies})
      *x /= samples;
  }
  std::string bound() const {
    std::string best;
    int most = -1;
    for (auto& [k, n] : bounds)
      if (n > most) most = n, best = k;
    return best;
  }
};

// What is compared: traffic, placement, replication and algorithm.
struct Variant {
  std::string name;
  TrafficSpec traffic;
  std::string placement;
  int replicate = 0;
  CommSpec comm;
};

struct VariantResult {
  std::vector<double> stepSeconds;
  std::vector<double> gpuSentBytes, gpuFinishSeconds, gpuCombineSeconds;  // first layer, means over steps
  double bytesPerStep = 0, interBytesPerStep = 0;
  std::array<CollectiveStats, 4> collectives;   // first layer
  std::vector<std::vector<double>> firstShare;  // per source group
  std::vector<double> firstTokens;
};

std::vector<std::vector<double>> basePopularities(const Scenario& s, const TrafficSpec& traffic,
                                                  std::mt19937_64& rng) {
  std::vector<std::vector<double>> base;
  for (int l = 0; l < s.layers; ++l) base.push_back(basePopularity(traffic, s.experts, l, rng));
  return base;
}

std::vector<double> expectedLoad(const std::vector<std::vector<double>>& base, int experts) {
  std::vector<double> expected(size_t(experts), 0.0);
  for (auto& b : base)
    for (size_t e = 0; e < b.size(); ++e) expected[e] += b[e];
  return expected;
}

// Placement is decided once, from the expected load (what a rebalancer would know).
Placement placementOf(const Scenario& s, const Variant& v, const std::vector<double>& expected) {
  Placement p = makePlacement(s, v.placement, expected);
  if (v.replicate > 0) p.replicateHottest(expected, v.replicate, s.cluster.gpus());
  return p;
}

VariantResult simulateVariant(const Scenario& s, const Variant& v) {
  const int G = s.cluster.gpus();
  std::mt19937_64 rng(s.seed);
  const auto base = basePopularities(s, v.traffic, rng);
  const Placement placement = placementOf(s, v, expectedLoad(base, s.experts));
  // Per layer, each source group's expert popularity: the base alone unless measured per shard.
  std::vector<std::vector<std::vector<double>>> sources;
  for (int l = 0; l < s.layers; ++l)
    sources.push_back(v.traffic.bySource() ? sourcePopularities(v.traffic, s.experts, l, G, rng)
                                           : std::vector<std::vector<double>>{base[size_t(l)]});
  const std::array<double, 4> bytes = {s.dispatchBytesPerToken(), double(s.hidden) * s.combineBytes,
                                       double(s.hidden) * s.backwardBytes,
                                       double(s.hidden) * s.backwardBytes};
  const int exchanges = s.backward ? 4 : 2;
  VariantResult r;
  r.gpuSentBytes.assign(size_t(G), 0.0);
  r.gpuFinishSeconds.assign(size_t(G), 0.0);
  r.gpuCombineSeconds.assign(size_t(G), 0.0);
  std::normal_distribution<double> z(0.0, 1.0);
  const double sv = v.traffic.sourceVariation;
  MoeExchange x;
  x.topK = s.topK;
  x.bytesPerCopy = 1;  // rescaled per collective
  x.tokens.resize(size_t(G));
  for (int step = 0; step < s.steps; ++step) {
    double stepTime = 0;
    for (int l = 0; l < s.layers; ++l) {
      const auto& layerSources = sources[size_t(l)];
      x.gpuShare.resize(layerSources.size());
      for (size_t q = 0; q < layerSources.size(); ++q)
        x.gpuShare[q] = placement.gpuShare(stepPopularity(layerSources[q], v.traffic.variation, rng), G);
      for (int g = 0; g < G; ++g)
        x.tokens[size_t(g)] = double(s.tokensPerGpu) * (sv > 0 ? std::exp(sv * z(rng) - 0.5 * sv * sv) : 1.0);
      const ExchangeVolumes routed = exchangeVolumes(s.cluster, v.comm, x);  // one byte per copy
      for (int c = 0; c < exchanges; ++c) {
        const CollectiveTiming t =
            collectiveTiming(s.cluster, v.comm, rescaled(routed, bytes[size_t(c)], kReverse[size_t(c)]));
        stepTime += t.seconds;
        r.bytesPerStep += t.intraBytes + t.interBytes;
        r.interBytesPerStep += t.interBytes;
        if (l != 0) continue;
        r.collectives[size_t(c)].add(t, G);
        for (int g = 0; g < G && c < 2; ++g) {
          if (c == 0) r.gpuSentBytes[size_t(g)] += t.sentBytes[size_t(g)] / s.steps;
          (c == 0 ? r.gpuFinishSeconds : r.gpuCombineSeconds)[size_t(g)] +=
              t.finishSeconds[size_t(g)] / s.steps;
        }
      }
      if (l == 0 && step == 0) {
        r.firstShare = x.gpuShare;
        r.firstTokens = x.tokens;
      }
    }
    r.stepSeconds.push_back(stepTime);
  }
  r.bytesPerStep /= s.steps;
  r.interBytesPerStep /= s.steps;
  for (auto& c : r.collectives) c.finish();
  return r;
}

std::vector<double> toMs(const std::vector<double>& seconds) {
  std::vector<double> ms;
  for (double x : seconds) ms.push_back(x * 1e3);
  return ms;
}

nlohmann::json summary(const Variant& variant, const VariantResult& v, double balancedMean) {
  const double mean = meanOf(v.stepSeconds);
  return {{"name", variant.name},
          {"algorithm", algorithmName(variant.comm.algorithm)},
          {"mean_ms", mean * 1e3},
          {"p50_ms", percentile(v.stepSeconds, 0.5) * 1e3},
          {"p95_ms", percentile(v.stepSeconds, 0.95) * 1e3},
          {"p99_ms", percentile(v.stepSeconds, 0.99) * 1e3},
          {"slowdown_vs_balanced", balancedMean > 0 ? mean / balancedMean : 1.0},
          {"bytes_per_step", v.bytesPerStep},
          {"inter_node_bytes_per_step", v.interBytesPerStep},
          {"bottleneck", v.collectives[0].bound()}};
}

// nccl-tests' definitions: algbw = per-rank buffer / time, busbw = algbw (n - 1) / n for all-to-all.
// DeepEP's "RDMA bandwidth" of its normal kernels counts one copy per (token, node), own node
// included: rdma_logical = tokens x node copies x bytes / time; its "NVL bandwidth" one per
// (token, GPU): nvlink_logical = tokens x GPU copies x bytes / time.
nlohmann::json collectivesJson(const VariantResult& v, int exchanges, int gpus) {
  nlohmann::json out = nlohmann::json::array();
  for (int c = 0; c < exchanges; ++c) {
    const CollectiveStats& k = v.collectives[size_t(c)];
    const double algbw = k.seconds > 0 ? k.logicalBytes / k.seconds / 1e9 : 0;
    out.push_back({{"name", kCollectives[size_t(c)]},
                   {"time_us", k.seconds * 1e6},
                   {"bytes_per_gpu", k.logicalBytes},
                   {"nic_bytes_per_gpu", k.nicBytes},
                   {"nvlink_bytes_per_gpu", k.nvlinkBytes},
                   {"algbw_GBps", algbw},
                   {"busbw_GBps", algbw * double(gpus - 1) / double(gpus)},
                   {"rdma_logical_GBps", k.seconds > 0 ? k.nodeLogicalBytes / k.seconds / 1e9 : 0},
                   {"nvlink_logical_GBps", k.seconds > 0 ? k.gpuLogicalBytes / k.seconds / 1e9 : 0},
                   {"expert_copies_per_token", k.expertCopies},
                   {"gpu_copies_per_token", k.gpuCopies},
                   {"node_copies_per_token", k.nodeCopies},
                   {"bandwidth_us", k.bandwidth * 1e6},
                   {"per_peer_us", k.perPeer * 1e6},
                   {"latency_us", k.latency * 1e6},
                   {"bound_by", k.bound()}});
  }
  return out;
}

bool sameShares(const std::vector<double>& a, const std::vector<double>& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (std::abs(a[i] - b[i]) > 1e-12) return false;
  return true;
}

}  // namespace

std::vector<double> simulateStepTimes(const Scenario& s) {
  return simulateVariant(s, {"configured", s.traffic, s.placement, s.replicateHot, s.comm}).stepSeconds;
}

nlohmann::json runScenario(const Scenario& s) {
  const int G = s.cluster.gpus(), exchanges = s.backward ? 4 : 2;
  const std::string algorithm = algorithmName(s.comm.algorithm);
  const Variant configured{"configured (" + s.traffic.kind + ", " + s.placement + ", " + algorithm + ")",
                           s.traffic, s.placement, s.replicateHot, s.comm};
  TrafficSpec uniform = s.traffic;
  uniform.kind = "uniform";
  uniform.variation = 0;
  uniform.sourceVariation = 0;
  uniform.countsBySource.clear();
  const Variant balancedVariant{"balanced (uniform traffic)", uniform, "contiguous", 0, s.comm};
  const VariantResult main = simulateVariant(s, configured);
  const VariantResult balanced = simulateVariant(s, balancedVariant);
  const double balancedMean = meanOf(balanced.stepSeconds);

  // Which comparisons can differ from the configured variant; the others are listed with why not.
  std::mt19937_64 rng(s.seed);
  const auto expected = expectedLoad(basePopularities(s, s.traffic, rng), s.experts);
  const auto [lightest, heaviest] = std::minmax_element(expected.begin(), expected.end());
  const bool uniformLoad = *heaviest <= *lightest * (1 + 1e-9);
  const bool balancedAlready = uniformLoad && !s.traffic.bySource() && s.traffic.variation == 0 &&
                               s.traffic.sourceVariation == 0 && s.replicateHot == 0 &&
                               sameShares(placementOf(s, configured, expected).gpuShare(expected, G),
                                          Placement::contiguous(s.experts, G).gpuShare(expected, G));
  std::vector<Variant> variants;
  nlohmann::json skipped = nlohmann::json::array();
  auto skip = [&](const std::string& name, const std::string& why) {
    skipped.push_back({{"name", name}, {"reason", why}});
  };
  if (G == 1) skip("every comparison", "one GPU: there is no all-to-all to compare");
  if (s.compareUniform && G > 1) {
    if (balancedAlready) skip(balancedVariant.name, "the configured traffic is already balanced");
  }
  for (const auto& strategy : s.compareStrategies) {
    if (G == 1) break;
    if (uniformLoad) {
      skip(strategy, "every expert has the same expected load: nothing to rebalance");
      continue;
    }
    variants.push_back(strategy == "replicate_hot"
                           ? Variant{strategy, s.traffic, s.placement,
                                     std::max(1, s.replicateHot > 0 ? s.replicateHot : G / 8), s.comm}
                           : Variant{strategy, s.traffic, "greedy_rebalance", s.replicateHot, s.comm});
  }
  const auto configuredShares = placementOf(s, configured, expected).gpuShare(expected, G);
  for (const auto& placement : s.comparePlacements) {
    if (G == 1 || placement == s.placement) continue;
    Variant v{"placement " + placement, s.traffic, placement, s.replicateHot, s.comm};
    if (sameShares(placementOf(s, v, expected).gpuShare(expected, G), configuredShares))
      skip(v.name, "every GPU gets the same expected load as with " + s.placement + " placement");
    else
      variants.push_back(v);
  }
  for (const auto& name : s.compareAlgorithms) {
    if (G == 1 || name == algorithm) continue;
    CommSpec comm = s.comm;
    comm.algorithm = parseAlgorithm(name);
    comm.costs = AlgorithmCosts::defaults(comm.algorithm, s.cluster);
    variants.push_back({"algorithm " + name, s.traffic, s.placement, s.replicateHot, comm});
  }

  nlohmann::json comparison = nlohmann::json::array();
  comparison.push_back(summary(configured, main, balancedMean));
  if (s.compareUniform && G > 1 && !balancedAlready)
    comparison.push_back(summary(balancedVariant, balanced, balancedMean));
  for (const auto& v : variants) comparison.push_back(summary(v, simulateVariant(s, v), balancedMean));

  // Token copies of the first layer's forward dispatch at step 0, before any deduplication: GPU x
  // GPU up to 64 GPUs, node x node beyond (a 1,024-GPU matrix is a million cells nobody can read).
  const bool perGpu = G <= 64;
  const int cells = perGpu ? G : s.cluster.nodes, per = perGpu ? 1 : s.cluster.gpusPerNode;
  std::vector<std::vector<double>> matrix(size_t(cells), std::vector<double>(size_t(cells), 0.0));
  const double copyBytes = double(s.topK) * s.dispatchBytesPerToken();
  for (int a = 0; a < G; ++a)
    for (int b = 0; b < G; ++b)
      if (a != b)
        matrix[size_t(a / per)][size_t(b / per)] +=
            main.firstTokens[size_t(a)] * copyBytes *
            main.firstShare[size_t(a) % main.firstShare.size()][size_t(b)];

  // The first layer's dispatch, split so the parts add up: bandwidth is what its bytes cost spread
  // evenly, imbalance what the skew adds, then per-peer overhead and latency of the slowest GPU.
  const CollectiveStats& d = main.collectives[0];
  const double evenBandwidth = std::min(d.bandwidth, balanced.collectives[0].bandwidth);
  nlohmann::json bottlenecks = d.bounds;
  nlohmann::json breakdown = {{"dispatch_ms", d.seconds * 1e3},
                              {"balanced_dispatch_ms", balanced.collectives[0].seconds * 1e3},
                              {"bandwidth_ms", evenBandwidth * 1e3},
                              {"imbalance_ms", std::max(0.0, d.bandwidth - evenBandwidth) * 1e3},
                              {"per_peer_ms", d.perPeer * 1e3},
                              {"latency_ms", d.latency * 1e3},
                              {"bottleneck_counts", bottlenecks}};
  const double mainMean = meanOf(main.stepSeconds);
  nlohmann::json result = {
      {"scenario", s.json},
      {"cluster", s.cluster.toJson()},
      {"gpus", G},
      {"gpus_per_node", s.cluster.gpusPerNode},
      {"algorithm", algorithm},
      {"comm",
       {{"algorithm", algorithm},
        {"max_nodes_per_token", s.comm.maxNodesPerToken},
        {"launch_us", s.comm.costs.launchUs},
        {"per_peer_us", s.comm.costs.perPeerUs},
        {"per_node_us", s.comm.costs.perNodeUs},
        {"nic_efficiency",
         s.comm.costs.nicEfficiency > 0 ? s.comm.costs.nicEfficiency : s.cluster.nicEfficiency.peak()},
        {"nvlink_efficiency", s.comm.costs.nvlinkEfficiency > 0 ? s.comm.costs.nvlinkEfficiency
                                                                : s.cluster.intraEfficiency.peak()}}},
      {"bytes_per_token",
       {{"dispatch", s.dispatchBytesPerToken()},
        {"combine", double(s.hidden) * s.combineBytes},
        {"backward", double(s.hidden) * s.backwardBytes}}},
      {"step_ms",
       {{"mean", mainMean * 1e3},
        {"p50", percentile(main.stepSeconds, 0.5) * 1e3},
        {"p95", percentile(main.stepSeconds, 0.95) * 1e3},
        {"p99", percentile(main.stepSeconds, 0.99) * 1e3},
        {"samples", toMs(main.stepSeconds)}}},
      {"traffic_sources", main.firstShare.size()},
      {"slowdown_vs_balanced", balancedMean > 0 ? mainMean / balancedMean : 1.0},
      {"collectives", collectivesJson(main, exchanges, G)},
      {"breakdown", breakdown},
      {"per_gpu",
       {{"sent_bytes", main.gpuSentBytes},
        {"finish_ms", toMs(main.gpuFinishSeconds)},
        {"combine_finish_ms", toMs(main.gpuCombineSeconds)}}},
      {"traffic_matrix", {{"unit", perGpu ? "gpu" : "node"}, {"bytes", matrix}}},
      {"comparison", comparison},
      {"skipped", skipped}};
  if (s.validationMetric != "none")
    for (const auto& c : result["collectives"])
      if (c["name"] == s.validationCollective) {
        const double model = c[s.validationMetric].get<double>();
        result["validation"] = {{"metric", s.validationMetric},
                                {"collective", s.validationCollective},
                                {"reference", s.validationReference},
                                {"model", model},
                                {"error", model / s.validationReference - 1.0},
                                {"source", s.validationSource}};
      }
  return result;
}

}  // namespace moelab::sim
