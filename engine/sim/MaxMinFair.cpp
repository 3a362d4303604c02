#include "sim/MaxMinFair.h"

#include <algorithm>
#include <limits>

namespace moelab::sim {

std::vector<double> maxMinFairRates(const std::vector<FluidFlow>& flows,
                                    const std::vector<double>& capacity) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> rate(flows.size(), 0.0), left = capacity;
  std::vector<char> frozen(flows.size(), 0);
  size_t active = 0;
  for (size_t f = 0; f < flows.size(); ++f) {
    if (flows[f].links.empty()) {
      rate[f] = inf;  // crosses nothing: not limited by the network
      frozen[f] = 1;
    } else {
      ++active;
    }
  }
  while (active > 0) {
    // The link that saturates first fixes the next fair-share increment.
    std::vector<int> users(capacity.size(), 0);
    for (size_t f = 0; f < flows.size(); ++f)
      if (!frozen[f])
        for (int l : flows[f].links) ++users[size_t(l)];
    double inc = inf;
    for (size_t l = 0; l < capacity.size(); ++l)
      if (users[l] > 0) inc = std::min(inc, left[l] / users[l]);
    for (size_t f = 0; f < flows.size(); ++f)
      if (!frozen[f]) rate[f] += inc;
    for (size_t l = 0; l < capacity.size(); ++l) left[l] -= inc * users[l];
    for (size_t f = 0; f < flows.size(); ++f) {
      if (frozen[f]) continue;
      for (int l : flows[f].links)
        if (left[size_t(l)] <= 1e-12 * std::max(1.0, capacity[size_t(l)])) {
          frozen[f] = 1;
          --active;
          break;
        }
    }
  }
  return rate;
}

std::vector<double> fluidCompletionTimes(const std::vector<FluidFlow>& flows,
                                         const std::vector<double>& capacity) {
  std::vector<double> done(flows.size(), 0.0), remaining(flows.size());
  std::vector<FluidFlow> live;
  std::vector<size_t> index;
  for (size_t f = 0; f < flows.size(); ++f) {
    remaining[f] = flows[f].bytes;
    if (flows[f].bytes > 0) {
      live.push_back(flows[f]);
      index.push_back(f);
    }
  }
  double now = 0;
  while (!live.empty()) {
    auto rate = maxMinFairRates(live, capacity);
    double dt = std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < live.size(); ++i) dt = std::min(dt, remaining[index[i]] / rate[i]);
    if (!(dt < std::numeric_limits<double>::infinity())) dt = 0;  // flows that cross no link
    now += dt;
    std::vector<FluidFlow> nextLive;
    std::vector<size_t> nextIndex;
    for (size_t i = 0; i < live.size(); ++i) {
      size_t f = index[i];
      remaining[f] -= rate[i] * dt;
      if (remaining[f] <= 1e-9 * flows[f].bytes || rate[i] == std::numeric_limits<double>::infinity()) {
        done[f] = now;
      } else {
        nextLive.push_back(live[i]);
        nextIndex.push_back(f);
      }
    }
    live.swap(nextLive);
    index.swap(nextIndex);
  }
  return done;
}

}  // namespace moelab::sim
