#include "train/RunRecorder.h"

#include <filesystem>

namespace moelab {

RunRecorder::RunRecorder(ExperimentStore& store, int64_t runId, MetricSink* next)
    : store_(store), runId_(runId), next_(next), lastFlush_(std::chrono::steady_clock::now()) {}

RunRecorder::~RunRecorder() {
  try {
    flush();
  } catch (...) {
    // Destructors must not throw; the caller's explicit flush() reports errors.
  }
}

void RunRecorder::onMetrics(const std::vector<MetricPoint>& points) {
  pending_.insert(pending_.end(), points.begin(), points.end());
  if (std::chrono::steady_clock::now() - lastFlush_ > std::chrono::seconds(2)) flush();
  if (next_) next_->onMetrics(points);
}

void RunRecorder::onProgress(const TrainProgress& p) {
  lastStep_ = p.step;
  if (next_) next_->onProgress(p);
}

void RunRecorder::onArtifact(const std::string& key, int64_t step, const nlohmann::json& content) {
  store_.putArtifact(runId_, key, step, content);
  if (next_) next_->onArtifact(key, step, content);
}

void RunRecorder::beforeCheckpoint(int64_t step) {
  // Metrics up to a checkpoint must be in the database before the checkpoint exists: a resume
  // keeps rows up to the checkpoint's step and re-runs only later ones.
  flush();
  if (next_) next_->beforeCheckpoint(step);
}

void RunRecorder::onCheckpoint(int64_t step, const std::string& path, const std::string& sha256) {
  // The database keeps each checkpoint's digest too (the sidecar beside the file is what loading checks).
  store_.putArtifact(
      runId_, "checkpoint/" + std::filesystem::path(path).stem().string(), step,
      {{"file", std::filesystem::path(path).filename().string()}, {"path", path}, {"sha256", sha256}});
  if (next_) next_->onCheckpoint(step, path, sha256);
}

void RunRecorder::flush() {
  store_.logMetrics(runId_, pending_);
  pending_.clear();
  store_.heartbeat(runId_, lastStep_);
  lastFlush_ = std::chrono::steady_clock::now();
}

}  // namespace moelab
