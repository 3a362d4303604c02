#include <unistd.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>

#include "cli/CliCommon.h"
#include "cli/DistributedLaunch.h"
#include "cli/TorchCommands.h"
#include "dist/DistributedContext.h"
#include "run/RunController.h"
#include "util/Errors.h"

namespace moelab::cli {
namespace {

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
    midLine_ = tty_;
  }
  void onNotice(const std::string& message) override {
    std::fprintf(stderr, "%s%s\n", midLine_ ? "\n" : "", message.c_str());
    midLine_ = false;
  }
  void onWarning(const std::string& message) override {
    std::fprintf(stderr, "%swarning: %s\n", midLine_ ? "\n" : "", message.c_str());
    midLine_ = false;
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
  bool midLine_ = false;  // a progress line is open on the terminal
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace

int trainInProcess(const CliArgs& a, const RunRequest& req, DistributedContext* dist);

int trainCommand(const Words& words) {
  std::set<std::string> valueNames = {"db",     "data-dir",       "set",  "max-steps", "threads",
                                      "resume", "checkpoint-dir", "name", "init-from", "init-which"};
  valueNames.insert(distributedOptions().begin(), distributedOptions().end());
  auto a = CliArgs::parse(words, {"extend", "force"}, valueNames);
  if ((a.has("extend") || a.has("force")) && !a.has("resume"))
    throw UserError("--extend and --force only apply with --resume RUN_ID");
  if (a.positional.size() > 1) throw UserError("train takes one CONFIG file");
  if (a.positional.empty() && !a.has("resume"))
    throw UserError("train needs a CONFIG file (or --resume RUN_ID)");

  RunRequest req;
  if (!a.positional.empty()) req.configPath = a.positional[0];
  req.name = a.get("name", "");
  req.overrides = a.all("set");
  if (a.has("max-steps")) req.overrides.push_back("train.max_steps=" + a.get("max-steps"));
  if (a.has("threads")) req.overrides.push_back("train.threads=" + a.get("threads"));
  if (a.has("resume")) req.resumeRunId = parseRunId(a.get("resume"));
  if (a.has("init-from")) req.initFromRunId = parseRunId(a.get("init-from"));
  if (a.has("init-which") && !a.has("init-from"))
    throw UserError("--init-which only applies with --init-from RUN_ID");
  req.initFromWhich = a.get("init-which", "best");
  req.extend = a.has("extend");
  req.force = a.has("force");
  req.dataDir = a.get("data-dir", "");
  req.checkpointBase = a.get("checkpoint-dir", "");

  if (const int code = launchIfDistributed("train", words, a); code >= 0) return code;
  // A rank takes stop requests from the start: the launcher passes a stop on to every rank, and one
  // still loading data must end as interrupted (at its first step), not be killed by the signal.
  if (DistributedSpec::fromEnvironment()) stopOnSignals();
  return runAsRank([&](DistributedContext* dist) { return trainInProcess(a, req, dist); });
}

int trainInProcess(const CliArgs& a, const RunRequest& req, DistributedContext* dist) {
  const bool leader = !dist || dist->rank() == 0;
  // The database opens (and is possibly created) only once the config and data are known to be
  // good: a typo in a config must not leave an empty moelab.db behind.
  std::unique_ptr<ExperimentStore> store;
  auto openOnce = [&]() -> ExperimentStore& {
    if (!store) store = openStore(a, /*mustExist=*/a.has("resume") || a.has("init-from"));
    return *store;
  };
  ProgressPrinter printer;
  RunController controller(openOnce, a.get("db", "moelab.db"), req, leader ? &printer : nullptr);
  controller.setDistributed(dist);
  controller.prepare();
  const std::atomic<bool>* stop = stopOnSignals();
  const RunOutcome outcome = controller.run(stop);
  const std::string error = controller.error();
  if (!leader) return outcome == RunOutcome::Finished ? 0 : outcome == RunOutcome::Interrupted ? 130 : 1;
  std::fprintf(stderr, "\nrun %ld %s%s%s\n", long(controller.runId()), toString(outcome).c_str(),
               error.empty() ? "" : ": ", error.c_str());
  std::cout << nlohmann::json{{"run_id", controller.runId()}, {"status", toString(outcome)}}.dump() << "\n";
  return outcome == RunOutcome::Finished ? 0 : outcome == RunOutcome::Interrupted ? 130 : 1;
}

}  // namespace moelab::cli
