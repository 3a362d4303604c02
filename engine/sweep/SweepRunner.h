#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "metrics/Metrics.h"
#include "sweep/SweepSpec.h"

namespace moelab {

class ExperimentStore;

// What a sweep reports while it runs. Called from its worker threads (one per concurrent run).
class SweepListener {
 public:
  virtual ~SweepListener() = default;
  // The plan: how many points are done already, how many will run now.
  virtual void onPlan(int64_t sweepId, int64_t total, int64_t done, int64_t toRun) {}
  virtual void onPointStarted(int64_t index, int64_t runId, const std::string& label, bool resumed) {}
  virtual void onPointProgress(int64_t index, const TrainProgress& p) {}
  virtual void onPointEval(int64_t index, int64_t step, double metric) {}
  // status: finished | failed | diverged | pruned | interrupted | refused (no run: `error` says why)
  virtual void onPointEnded(int64_t index, int64_t runId, const std::string& status,
                            const std::string& error) {}
  virtual void onNotice(const std::string& text) {}
};

struct SweepOptions {
  int64_t concurrency = 0;   // 0: the spec's max_concurrent
  int64_t totalThreads = 0;  // torch threads shared by the concurrent runs; 0: every core
  std::string dataDir, checkpointBase;
};

struct SweepOutcome {
  std::map<std::string, int64_t> counts;  // final status -> points (invalid included)
  bool interrupted = false;               // stopped (resume continues it)
  std::string abortReason;                // data missing: no point can run until it is fixed
};

// A sweep's run queue: stores the sweep and its points (create), then runs every point that is
// not done with the chosen concurrency, each through the engine's run lifecycle (RunController),
// writing through `store`. Finished, failed, diverged and pruned points are done; interrupted
// runs resume from their checkpoints; points without a run start fresh. A failing point is
// recorded with its error and the sweep goes on. Early stopping (spec) stops runs as `pruned`.
class SweepRunner {
 public:
  // Stores the spec and its expanded points; returns the sweep id (status running).
  static int64_t create(ExperimentStore& store, const SweepSpec& spec);

  SweepRunner(ExperimentStore& store, std::string dbPath, int64_t sweepId, SweepOptions options = {},
              SweepListener* listener = nullptr);
  // Runs what remains until done or `stop` becomes true (runs stop at their next step, marked
  // interrupted, and the sweep interrupted). Throws UserError for an unknown sweep or one still
  // running in another live process.
  SweepOutcome run(const std::atomic<bool>* stop = nullptr);

  const SweepSpec& spec() const { return spec_; }
  int64_t threadsPerRun() const { return threadsPerRun_; }
  int64_t concurrency() const { return concurrency_; }

 private:
  struct Task;
  void runTask(Task& task, const std::atomic<bool>& stop);

  ExperimentStore& store_;
  std::string dbPath_;
  int64_t sweepId_;
  SweepOptions options_;
  SweepListener* listener_;
  SweepSpec spec_;
  int64_t concurrency_ = 1, threadsPerRun_ = 1;
  std::atomic<bool> aborted_{false};
  std::string abortReason_;  // written once, before aborted_ becomes true
};

}  // namespace moelab
