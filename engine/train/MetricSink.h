#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "metrics/Metrics.h"

namespace moelab {

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
  // What the run is doing, for a log or status line ("resuming run 3 from step 40").
  virtual void onNotice(const std::string& message) {}
};

}  // namespace moelab
