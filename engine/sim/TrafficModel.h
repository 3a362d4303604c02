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
};

// Base popularity of `experts` experts for `layer`. Throws UserError on impossible targets.
std::vector<double> basePopularity(const TrafficSpec& spec, int experts, int layer, std::mt19937_64& rng);
// Popularity perturbed for one step (unchanged when variation is 0).
std::vector<double> stepPopularity(const std::vector<double>& base, double variation, std::mt19937_64& rng);
double giniOf(std::vector<double> v);

}  // namespace moelab::sim
