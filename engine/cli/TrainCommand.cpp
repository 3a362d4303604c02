#include <unistd.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

#include "cli/CliCommon.h"
#include "cli/Commands.h"
#include "config/ConfigSchema.h"
#include "data/DataLocator.h"
#include "data/LmDataset.h"
#include "model/ModelSize.h"
#include "train/Checkpoint.h"
#include "train/ResumeChanges.h"
#include "train/RunRecorder.h"
#include "train/Trainer.h"
#include "util/Errors.h"
#include "util/SystemMemory.h"

namespace fs = std::filesystem;

namespace moelab::cli {
namespace {

std::atomic<bool> gStop{false};
void onSignal(int) {
  gStop = true;
}

// The live progress line: step/total, loss, tok/s, ETA (rewritten in place on a terminal).
class ProgressPrinter : public MetricSink {
 public:
  void onProgress(const TrainProgress& p) override {
    auto now = std::chrono::steady_clock::now();
    if (p.step != p.totalSteps && now - last_ < std::chrono::milliseconds(tty_ ? 200 : 5000)) return;
    last_ = now;
    char routing[96] = "";
    if (p.hasRouting)
      std::snprintf(routing, sizeof routing, "  aux %.3f drop %.1f%% maxvio %.2f", p.auxLoss,
                    100 * p.droppedFraction, p.maxViolation);
    std::fprintf(stderr, "%sstep %ld/%ld  epoch %ld  loss %.4f%s  lr %.2e  %.0f tok/s  elapsed %s  ETA %s%s",
                 tty_ ? "\r" : "", long(p.step), long(p.totalSteps), long(p.epoch + 1), p.loss, routing,
                 p.learningRate, p.tokensPerSecond, formatDuration(p.elapsedSeconds).c_str(),
                 formatDuration(p.etaSeconds).c_str(), tty_ ? "   " : "\n");
    std::fflush(stderr);
  }
  void onWarning(const std::string& message) override {
    std::fprintf(stderr, "%swarning: %s\n", tty_ ? "\n" : "", message.c_str());
  }
  void onMetrics(const std::vector<MetricPoint>& points) override {
    // Evaluations arrive as one batch: loss, perplexity, tokens, samples.
    std::map<std::string, double> v;
    int64_t step = 0;
    for (const auto& m : points) {
      v[m.key] = m.value;
      step = m.step;
    }
    for (const char* prefix : {"val/", "val_full/"}) {
      std::string p = prefix;
      if (!v.count(p + "loss")) continue;
      std::fprintf(stderr, "%s[%s] step %ld  val loss %.4f  ppl %.2f  (%.0f samples, %.0f tokens%s)\n",
                   tty_ ? "\n" : "", p == "val/" ? "eval" : "final", long(step), v[p + "loss"],
                   std::exp(v[p + "loss"]), v[p + "samples"], v[p + "tokens"],
                   p == "val/" ? "" : ", the whole validation split");
    }
  }

 private:
  bool tty_ = isatty(STDERR_FILENO);
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace

int trainCommand(const Words& words) {
  auto a =
      CliArgs::parse(words, {"extend", "force"},
                     {"db", "data-dir", "set", "max-steps", "threads", "resume", "checkpoint-dir", "name"});
  if ((a.has("extend") || a.has("force")) && !a.has("resume"))
    throw UserError("--extend and --force only apply with --resume RUN_ID");
  if (a.positional.size() > 1) throw UserError("train takes one CONFIG file");
  if (a.positional.empty() && !a.has("resume"))
    throw UserError("train needs a CONFIG file (or --resume RUN_ID)");
  // A new run opens (and possibly creates) the database only once its config and data are known
  // to be good: a typo in a config must not leave an empty moelab.db behind.
  std::unique_ptr<ExperimentStore> store;
  if (a.has("resume")) store = openStore(a, /*mustExist=*/true);

  std::vector<std::string> overrides = a.all("set");
  if (a.has("max-steps")) overrides.push_back("train.max_steps=" + a.get("max-steps"));
  if (a.has("threads")) overrides.push_back("train.threads=" + a.get("threads"));

  int64_t runId = 0, resumeStep = 0;
  std::string checkpointPath, checkpointDir;
  ExperimentConfig cfg;
  ResumeChanges changes;
  if (a.has("resume")) {
    runId = parseRunId(a.get("resume"));
    auto run = store->run(runId);
    if (!run)
      throw UserError("--resume: no run with id " + std::to_string(runId) + " in " +
                      a.get("db", "moelab.db"));
    if (run->status == "finished" && !a.has("extend"))
      throw UserError("run " + std::to_string(runId) +
                      " already finished; to train it further pass --extend with a larger --max-steps or "
                      "--set train.epochs=N");
    if (run->status == "running" && !a.has("force"))
      throw UserError("run " + std::to_string(runId) +
                      " is still running in another process (if you know that process is gone, resume with "
                      "--force)");
    // A run killed before its first save has no checkpoint: it restarts from step 0 in its row.
    const bool hasCheckpoint = !run->checkpointDir.empty() && (fs::exists(run->checkpointDir + "/last.pt") ||
                                                               fs::exists(run->checkpointDir + "/best.pt"));
    if (hasCheckpoint) checkpointPath = runCheckpoint(*store, runId, /*preferBest=*/false);
    // The requested config: the recorded one (or CONFIG) with --set/--max-steps/--threads applied.
    if (a.positional.empty()) {
      nlohmann::json doc = run->config;
      for (const auto& o : overrides) ConfigSchema::experiment().applyOverride(doc, o);
      cfg = ExperimentConfig::fromJson(doc);
    } else {
      cfg = ExperimentConfig::load(a.positional[0], overrides);
    }
    // Compared with defaults filled in, so keys added to the schema since the run started are not
    // reported as changes.
    changes = checkResumeChanges(ExperimentConfig::fromJson(run->config).json, cfg.json, a.has("extend"));
    if (run->status == "finished" && !changes.horizonChanged)
      throw UserError("--extend: run " + std::to_string(runId) +
                      " already finished; give a longer horizon (--max-steps N or --set train.epochs=N)");
    checkpointDir = run->checkpointDir;
  } else {
    cfg = ExperimentConfig::load(a.positional[0], overrides);
  }
  if (cfg.train.threads > 0)
    torch::set_num_threads(int(cfg.train.threads));
  else
    torch::set_num_threads(int(std::max(1u, std::thread::hardware_concurrency())));

  DataLocator locator(a.get("data-dir"));
  std::fprintf(stderr, "loading %s (%s tokenizer, %s samples)...\n", cfg.data.dataset.c_str(),
               cfg.data.tokenizer.c_str(), cfg.data.sampleMode.c_str());
  LmDataset data = LmDataset::load(cfg, locator);
  // Refused before the database is touched: a run that cannot fit leaves no row behind.
  const SystemMemory mem = systemMemory();
  const std::string memoryWarning = requireTrainingFits(
      estimateTrainingMemory(resolveModelConfig(cfg, data.tokenizer->vocabSize()), cfg.train.batchSize),
      mem.totalBytes, mem.availableBytes, "training");
  if (!memoryWarning.empty()) std::fprintf(stderr, "%s\n", memoryWarning.c_str());
  if (!store) store = openStore(a);

  // Checkpoints live beside the database (moelab.db -> moelab-runs/<id>/) unless told otherwise;
  // the stem keeps two databases in one folder from sharing run folders.
  auto assignCheckpointDir = [&] {
    fs::path db = fs::absolute(a.get("db", "moelab.db"));
    fs::path base = a.has("checkpoint-dir") ? fs::path(a.get("checkpoint-dir"))
                                            : db.parent_path() / (db.stem().string() + "-runs");
    checkpointDir = (base / std::to_string(runId)).string();
    store->setCheckpointDir(runId, checkpointDir);
  };
  if (runId == 0) {
    std::string experiment = fs::path(a.positional[0]).stem().string();
    runId = store->createRun(experiment, a.get("name", experiment), cfg.json);
    assignCheckpointDir();
    store->logParams(runId, flattenConfig(cfg.json));
  } else if (checkpointDir.empty()) {
    assignCheckpointDir();  // killed between creating the run and recording its folder
  }
  store->setProvenance(runId, data.provenance);

  ProgressPrinter printer;
  RunRecorder recorder(*store, runId, &printer);
  recorder.setSpillFile(checkpointDir + "/unsaved-metrics.jsonl");
  // A new run's row is already `running`: any failure is the run's. A resume that is refused
  // (horizon, damaged checkpoint, checkpoint folder) leaves the run as it was.
  bool started = !a.has("resume");
  try {
    Trainer trainer(cfg, data, checkpointDir, &recorder);
    if (!checkpointPath.empty()) resumeStep = trainer.resumeFrom(checkpointPath, a.has("extend"));
    trainer.checkCheckpointFolder();
    started = true;
    if (a.has("resume")) {
      // Rows an earlier process could not write (its database refused them) come in first.
      if (size_t n = recorder.recoverSpilled(resumeStep))
        std::fprintf(stderr, "wrote %zu rows the previous process had kept in %s/unsaved-metrics.jsonl\n", n,
                     checkpointDir.c_str());
      store->deleteMetricsAfter(runId, resumeStep);  // what follows the checkpoint is re-run
      if (checkpointPath.empty())
        std::fprintf(stderr,
                     "run %ld has no checkpoint (stopped before its first save): restarting it from step 0\n",
                     long(runId));
      else
        std::fprintf(stderr, "resuming run %ld from step %ld (%s)\n", long(runId), long(resumeStep),
                     checkpointPath.c_str());
    }
    if (!changes.empty()) {
      std::string note;
      if (changes.horizonChanged && !checkpointPath.empty()) {
        char buf[200];
        std::snprintf(buf, sizeof buf,
                      "--extend: horizon now %ld steps; learning rate %.3g at step %ld decays by cosine to "
                      "%.3g at the last step",
                      long(trainer.totalSteps()), trainer.learningRateAt(resumeStep), long(resumeStep + 1),
                      cfg.train.minLearningRate);
        note = buf;
      }
      store->recordConfigChange(runId, resumeStep, changes.toJson(), cfg.json, note);
      std::fprintf(stderr, "config changed on resume: %s%s%s\n", changes.describe().c_str(),
                   note.empty() ? "" : "\n  ", note.c_str());
    }
    store->setStatus(runId, "running");
    auto params = trainer.model()->parameterBreakdown();
    std::fprintf(
        stderr, "run %ld: %s, %.2fM parameters, %ld train / %ld valid samples, %ld steps, %d threads\n",
        long(runId), cfg.model.architecture.c_str(), double(params.total) / 1e6, long(data.train.size()),
        long(data.valid.size()), long(trainer.totalSteps()), torch::get_num_threads());
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    RunOutcome outcome = trainer.run(&gStop);
    recorder.flush();
    std::string error = outcome == RunOutcome::Diverged
                            ? trainer.divergence() + "; kept the last good checkpoint"
                        : outcome == RunOutcome::Interrupted
                            ? "stopped by signal; resume with --resume " + std::to_string(runId)
                            : "";
    store->setStatus(runId, toString(outcome), error);
    std::fprintf(stderr, "\nrun %ld %s%s%s\n", long(runId), toString(outcome).c_str(),
                 error.empty() ? "" : ": ", error.c_str());
    std::cout << nlohmann::json{{"run_id", runId}, {"status", toString(outcome)}}.dump() << "\n";
    return outcome == RunOutcome::Finished ? 0 : outcome == RunOutcome::Interrupted ? 130 : 1;
  } catch (const std::exception& e) {
    try {
      recorder.flush();
    } catch (...) {
    }
    // LibTorch errors carry a C++ backtrace in what(): the run's error text gets the message only.
    const auto* torchError = dynamic_cast<const c10::Error*>(&e);
    try {
      if (started)
        store->setStatus(runId, "failed", torchError ? torchError->what_without_backtrace() : e.what());
    } catch (const std::exception&) {
      // The database itself is what failed: the run stays `running` until it is found stale.
    }
    throw;
  }
}

}  // namespace moelab::cli
