#include "model/RoutingStats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace moelab {
namespace {
double mean(const std::vector<int64_t>& v) {
  return v.empty() ? 0 : double(std::accumulate(v.begin(), v.end(), int64_t(0))) / double(v.size());
}
}  // namespace

std::vector<double> RoutingStats::loadFractions() const {
  double total = double(std::accumulate(tokensPerExpert.begin(), tokensPerExpert.end(), int64_t(0)));
  std::vector<double> f;
  for (auto c : tokensPerExpert) f.push_back(total > 0 ? double(c) / total : 0);
  return f;
}

double RoutingStats::coefficientOfVariation() const {
  double m = mean(tokensPerExpert);
  if (m <= 0) return 0;
  double var = 0;
  for (auto c : tokensPerExpert) var += (double(c) - m) * (double(c) - m);
  return std::sqrt(var / double(tokensPerExpert.size())) / m;
}

double RoutingStats::normalisedEntropy() const {
  if (tokensPerExpert.size() < 2) return 1;
  double h = 0;
  for (double p : loadFractions())
    if (p > 0) h -= p * std::log(p);
  return h / std::log(double(tokensPerExpert.size()));
}

double RoutingStats::gini() const {
  std::vector<int64_t> s = tokensPerExpert;
  std::sort(s.begin(), s.end());
  const double n = double(s.size()), total = double(std::accumulate(s.begin(), s.end(), int64_t(0)));
  if (total <= 0) return 0;
  double weighted = 0;
  for (size_t i = 0; i < s.size(); ++i) weighted += double(i + 1) * double(s[i]);
  return (2.0 * weighted) / (n * total) - (n + 1.0) / n;
}

double RoutingStats::maxViolation() const {
  double m = mean(tokensPerExpert);
  return m > 0 ? double(*std::max_element(tokensPerExpert.begin(), tokensPerExpert.end())) / m - 1.0 : 0;
}

int64_t RoutingStats::deadExperts() const {
  return std::count(tokensPerExpert.begin(), tokensPerExpert.end(), int64_t(0));
}

double RoutingStats::droppedFraction() const {
  return assignments > 0 ? double(dropped) / double(assignments) : 0;
}

}  // namespace moelab
