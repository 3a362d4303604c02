#include "metrics/LoadImbalance.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace moelab {

LoadImbalance LoadImbalance::of(const std::vector<double>& c) {
  LoadImbalance r;
  r.experts = int64_t(c.size());
  if (c.empty()) return r;
  const double n = double(c.size());
  r.total = std::accumulate(c.begin(), c.end(), 0.0);
  r.dead = std::count_if(c.begin(), c.end(), [](double v) { return v <= 0; });
  if (r.total <= 0) return r;  // nothing routed: no imbalance to speak of
  const double mean = r.total / n;
  for (double v : c) r.variance += (v - mean) * (v - mean);
  r.variance /= n;
  r.cv = std::sqrt(r.variance) / mean;
  // Gini over sorted values: sum_i (2i - n - 1) s_i / (n^2 mean), equal to the pairwise form.
  std::vector<double> s = c;
  std::sort(s.begin(), s.end());
  double weighted = 0;
  for (size_t i = 0; i < s.size(); ++i) weighted += (2.0 * double(i + 1) - n - 1.0) * s[i];
  r.gini = weighted / (n * r.total);
  if (c.size() >= 2) {
    double h = 0;
    for (double v : c)
      if (v > 0) h -= v / r.total * std::log(v / r.total);
    r.entropy = h / std::log(n);
  }
  r.maxMean = s.back() / mean;
  r.maxMin = s.front() > 0 ? s.back() / s.front() : std::numeric_limits<double>::infinity();
  return r;
}

LoadImbalance LoadImbalance::of(const std::vector<int64_t>& counts) {
  return of(std::vector<double>(counts.begin(), counts.end()));
}

nlohmann::json LoadImbalance::toJson() const {
  return {{"experts", experts},
          {"assignments", total},
          {"gini", gini},
          {"cv", cv},
          {"variance", variance},
          {"entropy", entropy},
          {"max_mean", maxMean},
          {"max_min", std::isfinite(maxMin) ? nlohmann::json(maxMin) : nlohmann::json(nullptr)},
          {"dead", dead}};
}

}  // namespace moelab
