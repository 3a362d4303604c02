#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>

#include "model/LanguageModel.h"

namespace moelab {

// Everything needed to continue a run exactly: model, optimizer, RNG, position in the data, and
// the config it was trained with. Written atomically (temp file, then rename).
struct CheckpointState {
  int64_t step = 0;          // optimizer steps completed
  int64_t epoch = 0;         // epoch of the next batch
  int64_t batchInEpoch = 0;  // index of the next batch within that epoch
  double bestValLoss = 0;    // +inf when no evaluation yet (stored as null)
  int64_t totalSteps = 0;    // the schedule's horizon when saved (0 in checkpoints before it was kept)
  int64_t anchorStep = -1;   // cosine restart of an extended horizon (-1: none)
  double anchorRate = 0;
  double nextLearningRate = 0;  // the rate step `step` + 1 would use under the saved schedule
  int64_t vocabSize = 0;        // the model's resolved vocabulary (0 in older checkpoints)
  // Data parallel: the ranks that trained it and each rank's RNG state (rank order); a resume needs
  // the same number of ranks. 1 and empty for one process.
  int64_t worldSize = 1;
  std::vector<torch::Tensor> rankRng;
  nlohmann::json config;     // full experiment JSON
  nlohmann::json tokenizer;  // Tokenizer::describe()
};

// Returns the file's SHA-256, also kept beside it in `path`.sha256 (checkpointDigestPath).
std::string saveCheckpoint(const std::string& path, const CheckpointState& state, LanguageModel& model,
                           torch::optim::Optimizer& optimizer);
std::string checkpointDigestPath(const std::string& path);
// Throws UserError when the file's SHA-256 matches none recorded in its sidecar (damaged on disk).
// Checkpoints without a sidecar (older ones) pass.
void verifyCheckpoint(const std::string& path);
// Reads only the metadata (config, step...) so callers can build the model first.
CheckpointState readCheckpointState(const std::string& path);
// Restores model (and optimizer, RNG if given) into already-constructed objects after verifying
// the file's SHA-256. `rank`: whose RNG state to restore in a data-parallel checkpoint. Throws UserError
// naming the file when it is missing, damaged, truncated or not a MoE Lab checkpoint.
void loadCheckpoint(const std::string& path, LanguageModel& model, torch::optim::Optimizer* optimizer,
                    bool restoreRng, int rank = 0);

}  // namespace moelab
