#pragma once
#include <nlohmann/json.hpp>
#include <ostream>

namespace moelab::sim {

// The comparison rows of a runScenario() result as CSV (one row per variant: its dispatch algorithm,
// mean/P50/P95/P99 ms, slowdown against balanced traffic, bytes per step, inter-node bytes, bottleneck). The
// CLI's
// --csv and the app's export write the same file.
void writeComparisonCsv(std::ostream& out, const nlohmann::json& result);

}  // namespace moelab::sim
