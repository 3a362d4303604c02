#include "sweep/EarlyStopping.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace moelab {
namespace {

bool better(double a, double b, bool minimize) {
  return minimize ? a < b : a > b;
}

// The best finite value at steps <= step; nullopt-like NaN when there is none.
double bestUpTo(const MetricCurve& c, int64_t step, bool minimize) {
  double best = NAN;
  for (const auto& [s, v] : c) {
    if (s > step) break;
    if (std::isfinite(v) && (std::isnan(best) || better(v, best, minimize))) best = v;
  }
  return best;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

}  // namespace

StopDecision medianStoppingDecision(const MetricCurve& own, const std::vector<MetricCurve>& others,
                                    int64_t step, const EarlyStoppingSpec& spec, bool minimize,
                                    const std::string& metric) {
  if (step < spec.graceSteps) return {};
  const double mine = bestUpTo(own, step, minimize);
  if (std::isnan(mine)) return {};
  std::vector<double> peers;
  for (const auto& c : others) {
    if (c.empty() || c.back().first < step) continue;  // has not reached this step
    const double b = bestUpTo(c, step, minimize);
    if (!std::isnan(b)) peers.push_back(b);
  }
  if (int64_t(peers.size()) < spec.minRuns) return {};
  std::sort(peers.begin(), peers.end());
  const size_t n = peers.size();
  const double median = n % 2 ? peers[n / 2] : 0.5 * (peers[n / 2 - 1] + peers[n / 2]);
  if (!better(median, mine, minimize)) return {};
  return {true, "median stopping at step " + std::to_string(step) + ": best " + metric + " " + fmt(mine) +
                    " is worse than the median " + fmt(median) + " of " + std::to_string(n) +
                    " runs at that step"};
}

std::vector<int64_t> ashaRungs(const EarlyStoppingSpec& spec, int64_t maxStep) {
  std::vector<int64_t> rungs;
  for (double r = double(std::max<int64_t>(1, spec.graceSteps)); r <= double(maxStep);
       r *= spec.reductionFactor)
    rungs.push_back(int64_t(std::llround(r)));
  return rungs;
}

StopDecision ashaDecision(const MetricCurve& own, const std::vector<MetricCurve>& others, int64_t step,
                          const EarlyStoppingSpec& spec, bool minimize, const std::string& metric) {
  if (own.empty() || own.back().first != step || !std::isfinite(own.back().second)) return {};
  const int64_t previous = own.size() > 1 ? own[own.size() - 2].first : std::numeric_limits<int64_t>::min();
  // The rung this evaluation is the run's first at or past (the highest such, if eval points are
  // sparser than rungs).
  int64_t rung = -1;
  for (int64_t r : ashaRungs(spec, step))
    if (previous < r && r <= step) rung = r;
  if (rung < 0) return {};
  const double mine = own.back().second;
  int64_t n = 1, rank = 1;
  for (const auto& c : others) {
    auto at = std::find_if(c.begin(), c.end(), [&](const auto& p) { return p.first >= rung; });
    if (at == c.end() || !std::isfinite(at->second)) continue;
    ++n;
    if (better(at->second, mine, minimize)) ++rank;
  }
  const int64_t keep = int64_t(std::floor(double(n) / spec.reductionFactor));
  if (keep < 1 || rank <= keep) return {};  // too few runs at this rung to judge, or promoted
  return {true, "successive halving at rung " + std::to_string(rung) + " (step " + std::to_string(step) +
                    "): " + metric + " " + fmt(mine) + " ranks " + std::to_string(rank) + " of " +
                    std::to_string(n) + " runs; the best " + std::to_string(keep) + " go on"};
}

StopDecision earlyStoppingDecision(const MetricCurve& own, const std::vector<MetricCurve>& others,
                                   int64_t step, const EarlyStoppingSpec& spec, bool minimize,
                                   const std::string& metric) {
  switch (spec.method) {
    case EarlyStoppingSpec::Method::Median:
      return medianStoppingDecision(own, others, step, spec, minimize, metric);
    case EarlyStoppingSpec::Method::Asha:
      return ashaDecision(own, others, step, spec, minimize, metric);
    case EarlyStoppingSpec::Method::None:
      break;
  }
  return {};
}

}  // namespace moelab
