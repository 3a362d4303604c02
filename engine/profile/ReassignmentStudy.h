#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "data/LmDataset.h"
#include "model/LanguageModel.h"
#include "profile/ReassignmentCsv.h"
#include "profile/RoutingProfiler.h"

namespace moelab {

// The accuracy-balance-time trade-off of reassignment strategies, side by side with the trained
// routing: for the original top-k and each strategy, a routing profile of the same samples
// (perplexity, imbalance) and the all-to-all step time simulated with its measured per-layer loads
// as traffic on `scenarioDoc` (a network-simulator document; its traffic is replaced).
struct ReassignmentStudy {
  std::vector<ReassignSpec> strategies;  // "none" is added first when missing
  nlohmann::json scenarioDoc = nlohmann::json::object();
  ProfileOptions profile;  // batch size, splits; strategy and progress are set per row
  // (rows done, rows in all, strategy label, samples done, samples in all); false cancels.
  std::function<bool(int64_t, int64_t, const std::string&, int64_t, int64_t)> progress;
};

// {"source", "samples", "cluster", "gpus", "scenario", "rows": [{"strategy", "perplexity",
// "perplexity_change", "loss", "gini", "cv", "entropy", "max_mean", "dead", "dropped",
// "alltoall_ms", "alltoall_change", "slowdown_vs_balanced", "profile"}]}. Throws UserError when the
// model is not sparse_moe or a strategy cannot run on it.
nlohmann::json runReassignmentStudy(LanguageModel& model, const TokenSplit& samples,
                                    const std::string& source, const ReassignmentStudy& study);

}  // namespace moelab
