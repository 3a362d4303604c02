#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sweep/SweepSpec.h"

namespace moelab {

// A run's metric at its evaluation points, in step order.
using MetricCurve = std::vector<std::pair<int64_t, double>>;

struct StopDecision {
  bool stop = false;
  std::string reason;  // why it stopped ("median stopping at step 50: best val/loss 5.31 worse than...")
};

// Median stopping (Golovin et al., "Google Vizier", 2017): at step s >= grace, a run stops when
// its best value up to s is worse than the median of the other runs' best values up to s, taken
// over the runs that have reached s (at least min_runs of them).
StopDecision medianStoppingDecision(const MetricCurve& own, const std::vector<MetricCurve>& others,
                                    int64_t step, const EarlyStoppingSpec& spec, bool minimize,
                                    const std::string& metric);

// Asynchronous successive halving (Li et al., "ASHA", 2020), stopping variant: rungs at
// grace * eta^k steps; when a run reaches a rung (its first evaluation at or after the rung's
// step) it goes on only if its value there ranks within the best max(1, floor(n / eta)) of the n
// runs that have reached that rung, itself included; otherwise it stops.
StopDecision ashaDecision(const MetricCurve& own, const std::vector<MetricCurve>& others, int64_t step,
                          const EarlyStoppingSpec& spec, bool minimize, const std::string& metric);

// The decision of the spec's method (never stops for Method::None).
StopDecision earlyStoppingDecision(const MetricCurve& own, const std::vector<MetricCurve>& others,
                                   int64_t step, const EarlyStoppingSpec& spec, bool minimize,
                                   const std::string& metric);

// The rung steps of ASHA up to `maxStep`: grace, grace*eta, grace*eta^2, ...
std::vector<int64_t> ashaRungs(const EarlyStoppingSpec& spec, int64_t maxStep);

}  // namespace moelab
