#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace moelab {

// How unevenly assignments spread over experts, from one layer's counts. Plain numbers: the router,
// the profiler, the store, the CLI and the app all read the same definitions.
//   fraction_i = c_i / sum c;  mean = sum c / E
//   cv        = population std(c) / mean
//   variance  = population variance of c (assignments^2)
//   gini      = sum_i sum_j |c_i - c_j| / (2 E^2 mean)   ([1,1,1,1] -> 0, [0,0,0,4] -> 0.75)
//   entropy   = -sum f_i ln f_i / ln E                   (1 = uniform, 0 = one expert)
//   max_mean  = max c / mean;  max_min = max c / min c   (infinite when an expert got nothing)
//   dead      = experts with c_i = 0
struct LoadImbalance {
  int64_t experts = 0;
  double total = 0, cv = 0, variance = 0, gini = 0, entropy = 1, maxMean = 1, maxMin = 1;
  int64_t dead = 0;

  static LoadImbalance of(const std::vector<double>& counts);
  static LoadImbalance of(const std::vector<int64_t>& counts);
  // {"gini", "cv", ...}; max_min is null when infinite (JSON has no infinity).
  nlohmann::json toJson() const;
};

}  // namespace moelab
