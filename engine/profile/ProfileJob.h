#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace moelab {

// One routing profile or reassignment study of a trained model, in plain terms that the CLI and
// the desktop app both fill in (no LibTorch in this header: the app's pane includes it).
struct ProfileJobRequest {
  std::string checkpoint;  // the weights; empty: the run's `which` checkpoint in `database`
  std::string database;    // the run's experiment database (the result is stored there)
  int64_t run = 0;         // 0: a bare checkpoint; nothing is stored
  std::string which = "best";
  std::string split = "valid";  // valid | test | train of the model's own data set
  std::string file;             // or a .txt / .jsonl file (wins over split)
  std::string dataDir;
  int64_t maxSamples = -1;  // -1: the config's data.num_eval_samples (0 = all)
  // 0: routing alone max(train.batch_size, 16,384 tokens / max_seq_length); with the LM head the
  // run's train.batch_size.
  int64_t batchSize = 0;
  int64_t positionBuckets = 0, shards = 0;
  std::string strategy = "none";  // a ReassignSpec label
  bool measureLoss = false;       // also score the text (perplexity); routing alone is much faster
  bool store = true;              // store the result as an analysis of `run`
};

// (samples done, samples in all); returning false cancels (the job throws Cancelled).
using JobProgress = std::function<bool(int64_t, int64_t)>;

// The profile as RoutingProfile::toJson, plus "checkpoint", "step" and, when stored, "profile_id".
// Throws UserError / DataError naming what is wrong (no checkpoint, missing data, a non-finite
// loss from damaged weights), Cancelled when `progress` said stop.
nlohmann::json runProfileJob(const ProfileJobRequest& r, const JobProgress& progress = {});

// runReassignmentStudy over `strategies` (labels; "none" first when missing) with the all-to-all
// simulated on `scenarioDoc`, plus "checkpoint", "step" and, when stored, "reassignment_id".
// `progress` counts samples over all rows.
nlohmann::json runReassignmentJob(const ProfileJobRequest& r, const std::vector<std::string>& strategies,
                                  const nlohmann::json& scenarioDoc, const JobProgress& progress = {});

// "<source> <strategy>": the label a stored profile carries.
std::string profileLabel(const nlohmann::json& profile);

}  // namespace moelab
