#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "store/ExperimentStore.h"

namespace moelab {

struct TrainProgress {
  int64_t step = 0, totalSteps = 0, epoch = 0;
  double loss = 0, learningRate = 0, tokensPerSecond = 0, elapsedSeconds = 0, etaSeconds = 0;
  // sparse_moe only: means over MoE layers (max for MaxVio).
  bool hasRouting = false;
  double auxLoss = 0, droppedFraction = 0, maxViolation = 0;
};

struct EvalResult {
  double loss = 0, perplexity = 0;
  int64_t tokens = 0;   // target tokens scored
  int64_t samples = 0;  // sequences scored
  int64_t batches = 0;
};

// Where a Trainer's observations go. Plain structs only: no tensors, no Qt, no SQLite.
// Called on the training thread.
class MetricSink {
 public:
  virtual ~MetricSink() = default;
  virtual void onMetrics(const std::vector<MetricPoint>& points) {}
  virtual void onProgress(const TrainProgress& p) {}
  virtual void onArtifact(const std::string& key, int64_t step, const nlohmann::json& content) {}
  // Before a checkpoint of `step` is written: whatever must be durable before it (metric rows up
  // to that step, so a kill between the two cannot lose them) is written now.
  virtual void beforeCheckpoint(int64_t step) {}
  virtual void onCheckpoint(int64_t step, const std::string& path, const std::string& sha256) {}
  // Something the user should know that does not stop the run (a database refusing writes, memory
  // tighter than the estimate).
  virtual void onWarning(const std::string& message) {}
};

}  // namespace moelab
