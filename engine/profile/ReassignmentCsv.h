#pragma once
#include <nlohmann/json.hpp>
#include <ostream>

namespace moelab {

// A reassignment table (runReassignmentStudy's JSON) as CSV: one row per strategy with its
// perplexity, imbalance and simulated all-to-all figures (no nested profile).
void writeReassignmentCsv(std::ostream& out, const nlohmann::json& table);

}  // namespace moelab
