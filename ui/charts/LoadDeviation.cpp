#include "charts/LoadDeviation.h"

#include <algorithm>
#include <numeric>

namespace moelab::ui {

const QString kDeviationCaption = "load / uniform − 1 (0 = uniform, −1 = idle)";

std::vector<double> deviationFromUniform(const std::vector<double>& v) {
  const double total = std::accumulate(v.begin(), v.end(), 0.0), n = double(v.size());
  std::vector<double> d;
  for (double x : v) d.push_back(total > 0 ? x * n / total - 1.0 : 0.0);
  return d;
}

ColourScale symmetricScale(const std::vector<std::vector<double>>& m) {
  double lo = 0, hi = 0;
  for (const auto& r : m)
    for (double x : r) lo = std::min(lo, x), hi = std::max(hi, x);
  return ColourScale::spanning(lo, hi, true);
}

QString percentVsUniform(double d) {
  return QString("%1%2 % vs uniform").arg(d >= 0 ? "+" : "").arg(d * 100, 0, 'f', 1);
}

}  // namespace moelab::ui
