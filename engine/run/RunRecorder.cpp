#include "run/RunRecorder.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>

#include "util/FileSync.h"

namespace fs = std::filesystem;

namespace moelab {

RunRecorder::RunRecorder(ExperimentStore& store, int64_t runId, MetricSink* next)
    : store_(store), runId_(runId), next_(next), lastFlush_(std::chrono::steady_clock::now()) {}

RunRecorder::~RunRecorder() {
  // Destructors must not throw; the caller's explicit flush() reports errors.
  try {
    if (pendingRows() > 0 && !tryFlush()) spill();
  } catch (...) {
  }
}

void RunRecorder::onMetrics(const std::vector<MetricPoint>& points) {
  pending_.insert(pending_.end(), points.begin(), points.end());
  if (std::chrono::steady_clock::now() - lastFlush_ > std::chrono::seconds(2)) tryFlush();
  if (next_) next_->onMetrics(points);
}

void RunRecorder::onProgress(const TrainProgress& p) {
  lastStep_ = p.step;
  if (next_) next_->onProgress(p);
}

void RunRecorder::onArtifact(const std::string& key, int64_t step, const nlohmann::json& content) {
  pendingArtifacts_.push_back({key, step, content});
  tryFlush();
  if (next_) next_->onArtifact(key, step, content);
}

void RunRecorder::beforeCheckpoint(int64_t step) {
  // Metrics up to a checkpoint must be durable before the checkpoint exists: a resume keeps rows up
  // to the checkpoint's step and re-runs only later ones. The database, or else the spill file.
  if (!tryFlush() && !spillPath_.empty()) {
    const size_t n = pendingRows();
    spill();
    onWarning("kept " + std::to_string(n) + " rows up to step " + std::to_string(step) + " in " + spillPath_ +
              " until the database takes them");
  }
  if (next_) next_->beforeCheckpoint(step);
}

void RunRecorder::onCheckpoint(int64_t step, const std::string& path, const std::string& sha256) {
  // The database keeps each checkpoint's digest too (the sidecar beside the file is what loading checks).
  pendingArtifacts_.push_back(
      {"checkpoint/" + fs::path(path).stem().string(),
       step,
       {{"file", fs::path(path).filename().string()}, {"path", path}, {"sha256", sha256}}});
  tryFlush();
  if (next_) next_->onCheckpoint(step, path, sha256);
}

void RunRecorder::onWarning(const std::string& message) {
  if (next_) next_->onWarning(message);
}

bool RunRecorder::tryFlush() {
  lastFlush_ = std::chrono::steady_clock::now();
  try {
    if (!spillPath_.empty() && fs::exists(spillPath_)) recoverSpilled(std::numeric_limits<int64_t>::max());
    store_.logMetrics(runId_, pending_);  // one transaction: all rows or none
    pending_.clear();
    while (!pendingArtifacts_.empty()) {
      const auto& a = pendingArtifacts_.front();
      store_.putArtifact(runId_, a.key, a.step, a.content);
      pendingArtifacts_.erase(pendingArtifacts_.begin());
    }
    store_.heartbeat(runId_, lastStep_);
  } catch (const std::exception& e) {
    lastError_ = e.what();
    if (!failing_)
      onWarning("the experiment database refused a write (" + lastError_ + "); training goes on, " +
                std::to_string(pendingRows()) + " rows are kept and retried");
    failing_ = true;
    return false;
  }
  if (failing_) onWarning("the experiment database takes writes again; pending rows written");
  failing_ = false;
  return true;
}

void RunRecorder::flush() {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(std::max(0.0, finalRetrySeconds_));
  double wait = 0.25;
  while (!tryFlush()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      const size_t n = pendingRows();
      if (spillPath_.empty())
        throw std::runtime_error("the experiment database refuses writes (" + lastError_ +
                                 "): " + std::to_string(n) + " metric rows of run " + std::to_string(runId_) +
                                 " could not be written");
      spill();
      throw std::runtime_error("the experiment database refuses writes (" + lastError_ +
                               "): " + std::to_string(n) + " rows of run " + std::to_string(runId_) +
                               " are kept in " + spillPath_ + "; `moelab-cli train --resume " +
                               std::to_string(runId_) + "` writes them once the database works again");
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(wait));
    wait = std::min(wait * 2, 5.0);
  }
}

void RunRecorder::spill() {
  if (spillPath_.empty() || pendingRows() == 0) return;
  const bool created = !fs::exists(spillPath_);
  {
    std::ofstream out(spillPath_, std::ios::app | std::ios::binary);
    for (const auto& m : pending_)
      out << nlohmann::json{{"metric", m.key},
                            {"step", m.step},
                            {"value", m.value},
                            {"wall_time", m.wallTime}}
                 .dump()
          << "\n";
    for (const auto& a : pendingArtifacts_)
      out << nlohmann::json{{"artifact", a.key}, {"step", a.step}, {"content", a.content}}.dump() << "\n";
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + spillPath_ + " (rows the database refused)");
  }
  syncToDisk(spillPath_, false);
  if (created) syncToDisk(fs::path(spillPath_).parent_path().string(), true);
  pending_.clear();
  pendingArtifacts_.clear();
}

size_t RunRecorder::recoverSpilled(int64_t maxStep) {
  if (spillPath_.empty() || !fs::exists(spillPath_)) return 0;
  std::vector<MetricPoint> metrics;
  std::vector<PendingArtifact> artifacts;
  std::ifstream in(spillPath_, std::ios::binary);
  std::string line;
  while (std::getline(in, line)) {
    // A kill while appending leaves a torn last line: everything before it is whole.
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("step")) continue;
    const int64_t step = j["step"].get<int64_t>();
    if (step > maxStep) continue;
    if (j.contains("metric"))
      metrics.push_back(
          {j["metric"].get<std::string>(), step,
           j["value"].is_number() ? j["value"].get<double>() : std::nan(""),  // NaN is null in JSON
           j.value("wall_time", 0.0)});
    else if (j.contains("artifact"))
      artifacts.push_back({j["artifact"].get<std::string>(), step, j["content"]});
  }
  store_.logMetrics(runId_, metrics);
  for (const auto& a : artifacts) store_.putArtifact(runId_, a.key, a.step, a.content);
  fs::remove(spillPath_);
  return metrics.size() + artifacts.size();
}

}  // namespace moelab
