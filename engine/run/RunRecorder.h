#pragma once
#include <chrono>
#include <string>
#include <vector>

#include "store/ExperimentStore.h"
#include "train/MetricSink.h"

namespace moelab {

// MetricSink that writes a run's metrics, artifacts and heartbeat to the experiment database,
// batching metric rows into one transaction per flush.
//
// A database error while the run trains (busy past the timeout, disk full, a damaged file) does not
// stop the training: rows stay pending in memory and are retried at the next flush, and the next
// sink hears a warning. Where rows must be durable (before a checkpoint, at the end of the run) and
// the database still refuses them, they go to a spill file (JSON lines, fsynced) beside the run's
// checkpoints; the next successful flush, or a resume, writes them into the database.
class RunRecorder : public MetricSink {
 public:
  RunRecorder(ExperimentStore& store, int64_t runId, MetricSink* next = nullptr);
  ~RunRecorder() override;

  // Where rows go when the database refuses them at a durability point; empty = no spill file.
  void setSpillFile(std::string path) { spillPath_ = std::move(path); }
  // How long the final flush() keeps retrying a refusing database before it spills and throws.
  void setFinalRetrySeconds(double s) { finalRetrySeconds_ = s; }
  // Writes rows left in the spill file by an earlier process (only those up to `maxStep`: a resume
  // re-runs what follows its checkpoint) and removes the file. Returns how many rows were written.
  size_t recoverSpilled(int64_t maxStep);

  void onMetrics(const std::vector<MetricPoint>& points) override;
  void onProgress(const TrainProgress& p) override;
  void onArtifact(const std::string& key, int64_t step, const nlohmann::json& content) override;
  void beforeCheckpoint(int64_t step) override;
  void onCheckpoint(int64_t step, const std::string& path, const std::string& sha256) override;
  void onWarning(const std::string& message) override;
  void onNotice(const std::string& message) override {
    if (next_) next_->onNotice(message);
  }
  // End of run: everything pending reaches the database, retrying for the final retry time; then
  // the rows are spilled and std::runtime_error names the spill file.
  void flush();
  size_t pendingRows() const { return pending_.size() + pendingArtifacts_.size(); }

 private:
  struct PendingArtifact {
    std::string key;
    int64_t step;
    nlohmann::json content;
  };
  bool tryFlush();  // false (and a warning) when the database refused
  void spill();     // pending rows -> spill file, fsynced; pending cleared
  ExperimentStore& store_;
  int64_t runId_;
  MetricSink* next_;
  std::vector<MetricPoint> pending_;
  std::vector<PendingArtifact> pendingArtifacts_;
  std::chrono::steady_clock::time_point lastFlush_;
  int64_t lastStep_ = 0;
  std::string spillPath_, lastError_;
  double finalRetrySeconds_ = 60.0;
  bool failing_ = false;
};

}  // namespace moelab
