#include "run/RunController.h"

#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "config/ConfigSchema.h"
#include "data/DataLocator.h"
#include "dist/DistributedContext.h"
#include "dist/RankLauncher.h"
#include "model/ModelSize.h"
#include "train/Checkpoint.h"
#include "train/InitFrom.h"
#include "train/Precision.h"
#include "util/Errors.h"
#include "util/SystemMemory.h"

namespace fs = std::filesystem;

namespace moelab {

RunController::RunController(std::function<ExperimentStore&()> store, std::string dbPath, RunRequest request,
                             MetricSink* sink)
    : openStore_(std::move(store)), dbPath_(std::move(dbPath)), req_(std::move(request)), sink_(sink) {}

RunController::~RunController() = default;

void RunController::notice(const std::string& text) {
  if (sink_) sink_->onNotice(text);
}

void RunController::loadConfig() {
  auto fromRequest = [&] {
    if (!req_.configPath.empty()) return ExperimentConfig::load(req_.configPath, req_.overrides);
    nlohmann::json doc = req_.configDoc;
    for (const auto& o : req_.overrides) ConfigSchema::experiment().applyOverride(doc, o);
    return ExperimentConfig::fromJson(doc);
  };
  if (req_.resumeRunId == 0) {
    cfg_ = fromRequest();
    if (req_.initFromRunId != 0) checkInitFrom();
    return;
  }
  if (req_.initFromRunId != 0)
    throw UserError(
        "--init-from starts a new run from another run's weights; it cannot be combined with --resume");
  store_ = &openStore_();
  const std::string id = std::to_string(req_.resumeRunId);
  auto run = store_->run(req_.resumeRunId);
  if (!run) throw UserError("--resume: no run with id " + id + " in " + dbPath_);
  if (run->status == "finished" && !req_.extend)
    throw UserError("run " + id +
                    " already finished; to train it further pass --extend with a larger --max-steps or "
                    "--set train.epochs=N");
  if (run->status == "running" && !req_.force)
    throw UserError("run " + id +
                    " is still running in another process (if you know that process is gone, resume with "
                    "--force)");
  checkpointDir_ = run->checkpointDir;
  // A run killed before its first save has no checkpoint: it restarts from step 0 in its row.
  for (const char* name : {"/last.pt", "/best.pt"})
    if (checkpointPath_.empty() && !checkpointDir_.empty() && fs::exists(checkpointDir_ + name))
      checkpointPath_ = checkpointDir_ + name;
  // The requested config: the recorded one (or the given one) with the overrides applied.
  if (req_.configPath.empty() && req_.configDoc.is_null()) req_.configDoc = run->config;
  cfg_ = fromRequest();
  // Compared with defaults filled in, so keys added to the schema since the run started are not
  // reported as changes.
  changes_ = checkResumeChanges(ExperimentConfig::fromJson(run->config).json, cfg_.json, req_.extend);
  if (run->status == "finished" && !changes_.horizonChanged)
    throw UserError("--extend: run " + id +
                    " already finished; give a longer horizon (--max-steps N or --set train.epochs=N)");
  runId_ = req_.resumeRunId;
}

void RunController::checkInitFrom() {
  if (req_.initFromWhich != "best" && req_.initFromWhich != "last")
    throw UserError("--init-from: which checkpoint, best or last (got \"" + req_.initFromWhich + "\")");
  store_ = &openStore_();
  const std::string id = std::to_string(req_.initFromRunId);
  auto parent = store_->run(req_.initFromRunId);
  if (!parent) throw UserError("--init-from: no run with id " + id + " in " + dbPath_);
  initFrom_.run = req_.initFromRunId;
  initFrom_.checkpoint = store_->checkpointPath(initFrom_.run, req_.initFromWhich == "best");
  verifyCheckpoint(initFrom_.checkpoint);
  checkInitFromCompatible(readCheckpointState(initFrom_.checkpoint).config, cfg_.json);
}

void RunController::createOrReopenRun() {
  if (!store_) store_ = &openStore_();
  // Checkpoints live beside the database (moelab.db -> moelab-runs/<id>/) unless told otherwise;
  // the stem keeps two databases in one folder from sharing run folders.
  auto assignCheckpointDir = [&] {
    fs::path db = fs::absolute(dbPath_);
    fs::path base = !req_.checkpointBase.empty() ? fs::path(req_.checkpointBase)
                                                 : db.parent_path() / (db.stem().string() + "-runs");
    checkpointDir_ = (base / std::to_string(runId_)).string();
    store_->setCheckpointDir(runId_, checkpointDir_);
  };
  if (runId_ == 0) {
    std::string experiment = req_.experiment;
    if (experiment.empty())
      experiment =
          req_.configPath.empty() ? std::string("experiment") : fs::path(req_.configPath).stem().string();
    runId_ = store_->createRun(experiment, req_.name.empty() ? experiment : req_.name, cfg_.json, "running",
                               req_.sweepId, req_.sweepIndex);
    started_ = true;  // from here on, any failure is the run's
    assignCheckpointDir();
    store_->logParams(runId_, flattenConfig(cfg_.json));
  } else if (checkpointDir_.empty()) {
    assignCheckpointDir();  // killed between creating the run and recording its folder
  }
  store_->setProvenance(runId_, data_->provenance);
}

namespace {
const char* kRunKey = "moelab/run";
}

void RunController::publishToRanks(const std::string& error) {
  nlohmann::json doc;
  if (!error.empty()) {
    doc["error"] = error;
  } else {
    doc = {{"config", cfg_.json},
           {"run_id", runId_},
           {"checkpoint_dir", checkpointDir_},
           {"resume_checkpoint", checkpointPath_},
           {"init_from_checkpoint", initFrom_.checkpoint},
           {"extend", req_.extend}};
  }
  dist_->setKey(kRunKey, doc.dump());
}

void RunController::prepareFollower() {
  const nlohmann::json doc = nlohmann::json::parse(dist_->getKey(kRunKey));
  if (doc.contains("error")) throw RankDeclined(doc["error"].get<std::string>());
  cfg_ = ExperimentConfig::fromJson(doc["config"]);
  runId_ = doc["run_id"];
  checkpointDir_ = doc["checkpoint_dir"];
  checkpointPath_ = doc["resume_checkpoint"];
  torch::set_num_threads(cfg_.train.threads > 0 ? int(cfg_.train.threads)
                                                : int(std::max(1u, std::thread::hardware_concurrency())));
  data_ = std::make_unique<LmDataset>(LmDataset::load(cfg_, DataLocator(req_.dataDir)));
  trainer_ = std::make_unique<Trainer>(cfg_, *data_, checkpointDir_, nullptr, dist_);
  if (!checkpointPath_.empty())
    resumeStep_ = trainer_->resumeFrom(checkpointPath_, doc["extend"].get<bool>());
  const std::string initFrom = doc["init_from_checkpoint"];
  if (!initFrom.empty()) trainer_->initWeightsFrom(initFrom);
}

void RunController::prepare() {
  if (dist_ && dist_->rank() > 0) return prepareFollower();
  bool published = false;
  try {
    loadConfig();
    requirePrecisionSupported(cfg_);  // before data or database: nothing to undo
    // train.threads 0: every core. (The desktop app divides cores among its runs through it.)
    torch::set_num_threads(cfg_.train.threads > 0 ? int(cfg_.train.threads)
                                                  : int(std::max(1u, std::thread::hardware_concurrency())));
    notice("loading " + cfg_.data.dataset + " (" + cfg_.data.tokenizer + " tokenizer, " +
           cfg_.data.sampleMode + " samples)...");
    data_ = std::make_unique<LmDataset>(LmDataset::load(cfg_, DataLocator(req_.dataDir)));
    // Refused before the database is touched: a run that cannot fit leaves no row behind.
    const SystemMemory mem = systemMemory();
    const std::string memoryWarning =
        requireTrainingFits(estimateTrainingMemory(resolveModelConfig(cfg_, data_->tokenizer->vocabSize()),
                                                   cfg_.train.batchSize, dist_ ? dist_->worldSize() : 1),
                            mem.totalBytes, mem.availableBytes, dist_ ? "one rank" : "training");
    if (!memoryWarning.empty() && sink_) sink_->onWarning(memoryWarning);
    createOrReopenRun();

    recorder_ = std::make_unique<RunRecorder>(*store_, runId_, sink_);
    recorder_->setSpillFile(checkpointDir_ + "/unsaved-metrics.jsonl");
    if (dist_) {
      recordLaunchRun(dist_->spec(), runId_);
      store_->logParams(runId_,
                        {{"dist.world_size", dist_->worldSize()}, {"dist.backend", dist_->spec().backend}});
      publishToRanks("");
      published = true;
    }
    trainer_ = std::make_unique<Trainer>(cfg_, *data_, checkpointDir_, recorder_.get(), dist_);
    if (!checkpointPath_.empty()) resumeStep_ = trainer_->resumeFrom(checkpointPath_, req_.extend);
    if (initFrom_.run != 0) {
      const int64_t parentStep = trainer_->initWeightsFrom(initFrom_.checkpoint);
      store_->logParams(runId_, {{"init_from.run", initFrom_.run},
                                 {"init_from.checkpoint", initFrom_.checkpoint},
                                 {"init_from.step", parentStep}});
      notice("initialised from run " + std::to_string(initFrom_.run) + "'s weights at step " +
             std::to_string(parentStep) + " (" + initFrom_.checkpoint + ")");
    }
    trainer_->checkCheckpointFolder();
    started_ = true;
    if (req_.resumeRunId != 0) {
      // Rows an earlier process could not write (its database refused them) come in first.
      if (size_t n = recorder_->recoverSpilled(resumeStep_))
        notice("wrote " + std::to_string(n) + " rows the previous process had kept in " + checkpointDir_ +
               "/unsaved-metrics.jsonl");
      store_->deleteMetricsAfter(runId_, resumeStep_);  // what follows the checkpoint is re-run
      notice(checkpointPath_.empty()
                 ? "run " + std::to_string(runId_) +
                       " has no checkpoint (stopped before its first save): restarting it from step 0"
                 : "resuming run " + std::to_string(runId_) + " from step " + std::to_string(resumeStep_) +
                       " (" + checkpointPath_ + ")");
    }
    if (!changes_.empty()) {
      std::string note;
      if (changes_.horizonChanged && !checkpointPath_.empty()) {
        char buf[200];
        std::snprintf(buf, sizeof buf,
                      "--extend: horizon now %ld steps; learning rate %.3g at step %ld decays by cosine to "
                      "%.3g at the last step",
                      long(trainer_->totalSteps()), trainer_->learningRateAt(resumeStep_),
                      long(resumeStep_ + 1), cfg_.train.minLearningRate);
        note = buf;
      }
      store_->recordConfigChange(runId_, resumeStep_, changes_.toJson(), cfg_.json, note);
      notice("config changed on resume: " + changes_.describe() + (note.empty() ? "" : "\n  " + note));
    }
    store_->setStatus(runId_, "running");
    // What a runs table shows before the first metric: the horizon and the model's size.
    store_->putArtifact(runId_, "plan", resumeStep_,
                        {{"total_steps", trainer_->totalSteps()},
                         {"parameters", trainer_->model()->parameterBreakdown().total},
                         {"threads", torch::get_num_threads()},
                         {"ranks", dist_ ? dist_->worldSize() : 1}});
    char line[256];
    std::snprintf(line, sizeof line,
                  "run %ld: %s, %.2fM parameters, %ld train / %ld valid samples, %ld steps, %d threads",
                  long(runId_), cfg_.model.architecture.c_str(),
                  double(trainer_->model()->parameterBreakdown().total) / 1e6, long(data_->train.size()),
                  long(data_->valid.size()), long(trainer_->totalSteps()), torch::get_num_threads());
    notice(line);
  } catch (const std::exception& e) {
    if (dist_ && !published) {
      try {
        publishToRanks(e.what());
      } catch (const std::exception&) {
      }
    }
    fail(e);
    throw;
  }
}

RunOutcome RunController::run(const std::atomic<bool>* stop) {
  if (!trainer_) throw std::logic_error("RunController::run before prepare()");
  try {
    RunOutcome outcome = trainer_->run(stop);
    if (!recorder_) return outcome;  // a data-parallel rank > 0: rank 0 records the run
    recorder_->flush();
    error_ =
        outcome == RunOutcome::Diverged ? trainer_->divergence() + "; kept the last good checkpoint"
        : outcome == RunOutcome::Interrupted
            ? "stopped; " + (req_.resumeAdvice.empty()
                                 ? "resume with `moelab-cli train --resume " + std::to_string(runId_) +
                                       (dist_ ? " --nproc " + std::to_string(dist_->worldSize()) : "") + "`"
                                 : req_.resumeAdvice)
            : "";
    store_->setStatus(runId_, toString(outcome), error_);
    return outcome;
  } catch (const std::exception& e) {
    fail(e);
    throw;
  }
}

RunOutcome RunController::execute(const std::atomic<bool>* stop) {
  prepare();
  return run(stop);
}

void RunController::fail(const std::exception& e) {
  if (recorder_) {
    try {
      recorder_->flush();
    } catch (...) {
    }
  }
  // LibTorch errors carry a C++ backtrace in what(): the run's error text gets the message only.
  const auto* torchError = dynamic_cast<const c10::Error*>(&e);
  error_ = torchError ? torchError->what_without_backtrace() : e.what();
  try {
    if (started_ && store_) store_->setStatus(runId_, "failed", error_);
  } catch (const std::exception&) {
    // The database itself is what failed: the run stays `running` until it is found stale.
  }
}

}  // namespace moelab
