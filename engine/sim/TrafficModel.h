#pragma once
#include <random>
#include <string>
#include <vector>

namespace moelab::sim {

// How routed tokens spread over experts: a base popularity (sums to 1) and per-step noise.
struct TrafficSpec {
  std::string kind = "uniform";  // uniform | zipf | hot | gini | counts
  double zipfS = 1.0, hotMaxOverMean = 4.0, gini = 0.3;
  double variation = 0.0;                   // per-step lognormal noise on each expert's popularity (sigma)
  double sourceVariation = 0.0;             // per-step lognormal noise on each source GPU's token count
  bool shuffle = true;                      // scatter the popular experts over ids (else expert 0 is hottest)
  std::vector<std::vector<double>> counts;  // kind = counts: measured tokens per expert, per layer
  // kind = counts, optional: the same split by data-parallel source shard, [layer][shard][expert].
  // GPU g routes like shard g mod S (S shards folded onto the GPUs when there are more).
  std::vector<std::vector<std::vector<double>>> countsBySource;
  bool bySource() const { return kind == "counts" && !countsBySource.empty(); }
};

// Routed tokens per expert as measured: a run's logged counts or a routing profile, per MoE
// layer and optionally per source shard. What sim::withMeasuredTraffic puts into a scenario.
struct MeasuredTraffic {
  std::vector<std::vector<double>> counts;                 // [layer][expert]
  std::vector<std::vector<std::vector<double>>> bySource;  // [layer][shard][expert]; may be empty
  int topK = 0;                                            // 0 = keep the scenario's model.top_k
};
// How per-shard traffic maps onto `gpus` GPUs, for status lines: "" without per-shard counts, else
// e.g. ", per shard: 4 shards (GPU g routes like shard g mod 4)".
std::string sourcesNote(const MeasuredTraffic& traffic, int gpus);

// Base popularity of `experts` experts for `layer`. Throws UserError on impossible targets.
std::vector<double> basePopularity(const TrafficSpec& spec, int experts, int layer, std::mt19937_64& rng);
// Per source group of `layer`: each group's expert popularity (sums to 1). One group (the base
// popularity) without per-source counts; with them, min(S, gpus) groups, shard s in group s % gpus.
// Throws UserError naming traffic.counts_by_source on a malformed or empty source.
std::vector<std::vector<double>> sourcePopularities(const TrafficSpec& spec, int experts, int layer, int gpus,
                                                    std::mt19937_64& rng);
// Popularity perturbed for one step (unchanged when variation is 0).
std::vector<double> stepPopularity(const std::vector<double>& base, double variation, std::mt19937_64& rng);
double giniOf(std::vector<double> v);

}  // namespace moelab::sim
