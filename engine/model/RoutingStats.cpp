#include "model/RoutingStats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "metrics/LoadImbalance.h"

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
  return LoadImbalance::of(tokensPerExpert).cv;
}

double RoutingStats::normalisedEntropy() const {
  return tokensPerExpert.size() < 2 ? 1 : LoadImbalance::of(tokensPerExpert).entropy;
}

double RoutingStats::gini() const {
  return LoadImbalance::of(tokensPerExpert).gini;
}

double RoutingStats::maxViolation() const {
  return mean(tokensPerExpert) > 0 ? LoadImbalance::of(tokensPerExpert).maxMean - 1.0 : 0;
}

int64_t RoutingStats::deadExperts() const {
  return std::count(tokensPerExpert.begin(), tokensPerExpert.end(), int64_t(0));
}

double RoutingStats::droppedFraction() const {
  return assignments > 0 ? double(dropped) / double(assignments) : 0;
}

}  // namespace moelab
