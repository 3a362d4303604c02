#pragma once
#include <cstdint>
#include <ostream>
#include <vector>

#include "metrics/Metrics.h"

namespace moelab {

// A run's metric rows as CSV, through CsvWriter.
// Long: one row per (key, step): run,key,step,value,wall_time.
void writeMetricsLong(std::ostream& out, int64_t run, const std::vector<MetricPoint>& points);
// Wide: one row per step, one column per key (sorted), empty where a key has no value at that
// step; wall_time is the latest wall time of that step's rows.
void writeMetricsWide(std::ostream& out, const std::vector<MetricPoint>& points);

}  // namespace moelab
