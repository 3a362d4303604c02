#pragma once
#include <cstdint>
#include <vector>

#include "metrics/Metrics.h"
#include "model/RoutingStats.h"
#include "train/MetricSink.h"

namespace moelab {

class DistributedContext;

// Per-layer routing metrics ("moe/layer{l}/cv", ...), their mean and max over layers, and the
// per-expert counts as an "expert_counts" artifact.
void recordRouting(const std::vector<RoutingStats>& layers, int64_t step, double wallTime,
                   std::vector<MetricPoint>& out, MetricSink* sink);

// Every rank's routing of this step as one global view: counts summed, the per-token quantities
// averaged weighted by assignments. A rank that computed nothing this step adds nothing. A
// collective: every rank calls it at the same steps.
std::vector<RoutingStats> routingOverRanks(DistributedContext& dist, std::vector<RoutingStats> layers,
                                           int64_t numExperts, bool computed);

}  // namespace moelab
