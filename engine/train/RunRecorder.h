#pragma once
#include <chrono>
#include <mutex>
#include <vector>

#include "store/ExperimentStore.h"
#include "train/MetricSink.h"

namespace moelab {

// MetricSink that writes a run's metrics, artifacts and heartbeat to the experiment database,
// batching metric rows into one transaction per flush.
class RunRecorder : public MetricSink {
 public:
  RunRecorder(ExperimentStore& store, int64_t runId, MetricSink* next = nullptr);
  ~RunRecorder() override;

  void onMetrics(const std::vector<MetricPoint>& points) override;
  void onProgress(const TrainProgress& p) override;
  void onArtifact(const std::string& key, int64_t step, const nlohmann::json& content) override;
  void beforeCheckpoint(int64_t step) override;
  void onCheckpoint(int64_t step, const std::string& path, const std::string& sha256) override;
  void flush();

 private:
  ExperimentStore& store_;
  int64_t runId_;
  MetricSink* next_;
  std::vector<MetricPoint> pending_;
  std::chrono::steady_clock::time_point lastFlush_;
  int64_t lastStep_ = 0;
};

}  // namespace moelab
