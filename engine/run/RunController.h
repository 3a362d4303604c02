#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/ExperimentConfig.h"
#include "data/LmDataset.h"
#include "run/RunRecorder.h"
#include "run/RunRequest.h"
#include "store/ExperimentStore.h"
#include "train/MetricSink.h"
#include "train/ResumeChanges.h"
#include "train/Trainer.h"

namespace moelab {

class DistributedContext;

// One run's lifecycle, the same for the CLI, the desktop app and the sweep queue: the config and
// data are checked and loaded before the database is touched, the run is created (or its resume
// checked and its config changes recorded), it trains, and its status follows: running ->
// finished | interrupted (stop flag) | diverged | failed (any error, stored without a backtrace).
// A resume that is refused leaves the run as it was.
class RunController {
 public:
  // `store` opens the experiment database when first needed (so a bad config never creates one);
  // `dbPath` places checkpoint folders. `sink` hears metrics, progress, notices and warnings.
  RunController(std::function<ExperimentStore&()> store, std::string dbPath, RunRequest request,
                MetricSink* sink = nullptr);
  ~RunController();

  // Validates, loads data, creates or re-opens the run, builds the Trainer and loads the resume
  // checkpoint. Throws UserError (bad input; a new run is not created) or runtime errors (a new
  // run is then `failed`).
  void prepare();
  // Trains until done or `stop` becomes true; records the final status. prepare() first.
  RunOutcome run(const std::atomic<bool>* stop);
  // A data-parallel job (before prepare()): rank 0 does all of the above and hands the resolved
  // config and checkpoint paths to the other ranks, which train without a database or sink.
  void setDistributed(DistributedContext* dist) { dist_ = dist; }
  // prepare() + run() in one call.
  RunOutcome execute(const std::atomic<bool>* stop);

  int64_t runId() const { return runId_; }
  const ExperimentConfig& config() const { return cfg_; }
  const Trainer* trainer() const { return trainer_.get(); }
  std::string error() const { return error_; }  // the status text of a run that did not finish
  int64_t resumeStep() const { return resumeStep_; }

 private:
  void loadConfig();
  void checkInitFrom();  // --init-from: the parent's checkpoint, verified and compatible
  void createOrReopenRun();
  void fail(const std::exception& e);
  void prepareFollower();  // ranks > 0: rank 0's resolved run, then data and trainer
  void publishToRanks(const std::string& error);
  void notice(const std::string& text);

  std::function<ExperimentStore&()> openStore_;
  ExperimentStore* store_ = nullptr;
  std::string dbPath_;
  RunRequest req_;
  MetricSink* sink_;
  ExperimentConfig cfg_;
  ResumeChanges changes_;
  std::unique_ptr<LmDataset> data_;
  std::unique_ptr<RunRecorder> recorder_;
  std::unique_ptr<Trainer> trainer_;
  std::string checkpointPath_, checkpointDir_, error_;
  int64_t runId_ = 0, resumeStep_ = 0;
  struct {
    int64_t run = 0;
    std::string checkpoint;
  } initFrom_;
  DistributedContext* dist_ = nullptr;
  bool started_ = false;  // the run's row is this controller's to mark failed
};

}  // namespace moelab
