#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>

#include "cli/CliCommon.h"
#include "cli/SweepPreview.h"
#include "cli/TorchCommands.h"
#include "report/RunComparison.h"
#include "sweep/SweepResults.h"
#include "sweep/SweepRunner.h"
#include "util/Errors.h"

namespace moelab::cli {
namespace {

// One progress line per running point and an overall bar: redrawn in place on a terminal, printed
// as plain lines (throttled) otherwise.
class SweepPrinter : public SweepListener {
 public:
  explicit SweepPrinter(std::string metric) : metric_(std::move(metric)) {}

  void onPlan(int64_t sweepId, int64_t total, int64_t done, int64_t toRun) override {
    std::lock_guard<std::mutex> lock(mutex_);
    sweepId_ = sweepId;
    total_ = total;
    done_ = done;
    start_ = std::chrono::steady_clock::now();
    say("sweep " + std::to_string(sweepId) + ": " + std::to_string(total) + " points, " +
        std::to_string(done) + " done, " + std::to_string(toRun) + " to run");
  }
  void onPointStarted(int64_t index, int64_t runId, const std::string& label, bool resumed) override {
    std::lock_guard<std::mutex> lock(mutex_);
    Line& l = lines_[index];
    l.runId = runId;
    l.label = label;
    say("#" + std::to_string(index) + " run " + std::to_string(runId) +
        (resumed ? " resumed: " : " started: ") + label);
  }
  void onPointProgress(int64_t index, const TrainProgress& p) override {
    std::lock_guard<std::mutex> lock(mutex_);
    Line& l = lines_[index];
    l.p = p;
    const auto now = std::chrono::steady_clock::now();
    if (now - l.printed < std::chrono::milliseconds(tty_ ? 250 : 15000) && p.step != p.totalSteps) return;
    l.printed = now;
    if (tty_)
      redraw();
    else
      std::fprintf(stderr, "%s\n", describe(index, l).c_str());
  }
  void onPointEval(int64_t index, int64_t step, double metric) override {
    std::lock_guard<std::mutex> lock(mutex_);
    lines_[index].metric = metric;
  }
  void onPointEnded(int64_t index, int64_t runId, const std::string& status,
                    const std::string& error) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++done_;
    ++counts_[status];
    auto it = lines_.find(index);
    std::string line =
        "#" + std::to_string(index) + (runId > 0 ? " run " + std::to_string(runId) : "") + " " + status;
    if (it != lines_.end() && !std::isnan(it->second.metric))
      line += " (" + metric_ + " " + formatMetric(it->second.metric) + ")";
    if (!error.empty()) line += ": " + error;
    if (it != lines_.end()) lines_.erase(it);
    say(line);
    if (!tty_) std::fprintf(stderr, "%s\n", overall().c_str());
  }
  void onNotice(const std::string& text) override {
    // Each run's own notices (data loading, its size) are for `train`; the sweep keeps to pruning.
    if (text.find("pruned: ") == std::string::npos && text.find("warning: ") == std::string::npos) return;
    std::lock_guard<std::mutex> lock(mutex_);
    say(text);
  }

 private:
  struct Line {
    int64_t runId = 0;
    std::string label;
    TrainProgress p;
    double metric = NAN;
    std::chrono::steady_clock::time_point printed{};
  };

  std::string describe(int64_t index, const Line& l) const {
    char buf[256];
    std::snprintf(buf, sizeof buf, "#%ld run %ld  step %ld/%ld  loss %.4f  %s %s  %.0f tok/s  ETA %s",
                  long(index), long(l.runId), long(l.p.step), long(l.p.totalSteps), l.p.loss, metric_.c_str(),
                  std::isnan(l.metric) ? "-" : formatMetric(l.metric).c_str(), l.p.tokensPerSecond,
                  formatDuration(l.p.etaSeconds).c_str());
    return std::string(buf) + "  " + l.label;
  }
  std::string overall() const {
    const int width = 30;
    const int filled = total_ > 0 ? int(double(width) * double(done_) / double(total_)) : 0;
    std::string bar(size_t(filled), '#');
    bar += std::string(size_t(width - filled), '.');
    std::string extra;
    for (const auto& [k, n] : counts_) extra += (extra.empty() ? "" : ", ") + std::to_string(n) + " " + k;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    return "sweep " + std::to_string(sweepId_) + " [" + bar + "] " + std::to_string(done_) + "/" +
           std::to_string(total_) + (extra.empty() ? "" : " (" + extra + ")") + "  elapsed " +
           formatDuration(elapsed);
  }
  void clearBlock() {
    for (int i = 0; i < drawn_; ++i) std::fprintf(stderr, "\033[1A\033[2K");
    drawn_ = 0;
  }
  void redraw() {
    clearBlock();
    for (const auto& [i, l] : lines_) {
      std::fprintf(stderr, "%s\n", describe(i, l).substr(0, 160).c_str());
      ++drawn_;
    }
    std::fprintf(stderr, "%s\n", overall().c_str());
    ++drawn_;
    std::fflush(stderr);
  }
  void say(const std::string& text) {
    if (tty_) clearBlock();
    std::fprintf(stderr, "%s\n", text.c_str());
    if (tty_) redraw();
    std::fflush(stderr);
  }

  std::mutex mutex_;
  std::string metric_;
  bool tty_ = isatty(STDERR_FILENO);
  int drawn_ = 0;
  int64_t sweepId_ = 0, total_ = 0, done_ = 0;
  std::map<std::string, int> counts_;
  std::map<int64_t, Line> lines_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

int runOrResume(const CliArgs& a, int64_t sweepId) {
  auto store = openStore(a);
  SweepOptions opt;
  opt.concurrency = a.getInt("concurrency", 0);
  opt.totalThreads = a.getInt("threads", 0);
  opt.dataDir = a.get("data-dir", "");
  opt.checkpointBase = a.get("checkpoint-dir", "");
  if (opt.concurrency < 0 || opt.totalThreads < 0)
    throw UserError("--concurrency and --threads must be >= 1");
  auto rec = store->sweep(sweepId);
  if (!rec)
    throw UserError("no sweep with id " + std::to_string(sweepId) + " in " + a.get("db", "moelab.db"));
  SweepPrinter printer(rec->spec.value("metric", std::string("val/loss")));
  SweepRunner runner(*store, a.get("db", "moelab.db"), sweepId, opt, &printer);
  const std::atomic<bool>* stop = stopOnSignals();
  const SweepOutcome o = runner.run(stop);
  const SweepTable table = SweepTable::load(*store, sweepId);
  std::fprintf(stderr, "%s\n", table.summaryLine().c_str());
  if (!o.abortReason.empty()) {
    std::fprintf(stderr,
                 "error: sweep %ld stopped: %s\n(fix it, then continue with `moelab-cli sweep resume %ld`)\n",
                 long(sweepId), o.abortReason.c_str(), long(sweepId));
    return 2;
  }
  if (o.interrupted)
    std::fprintf(stderr, "sweep %ld interrupted; continue with `moelab-cli sweep resume %ld`\n",
                 long(sweepId), long(sweepId));
  std::cout
      << nlohmann::json{{"sweep_id", sweepId}, {"status", o.interrupted ? "interrupted" : "finished"}}.dump()
      << "\n";
  return o.interrupted ? 130 : 0;
}

}  // namespace

int sweepRunCommand(const Words& words) {
  const CliArgs a = parseSweepArgs(words);
  const std::string sub = a.positional.empty() ? "" : a.positional[0];
  if (a.positional.size() != 2)
    throw UserError("sweep " + sub + " needs " + (sub == "run" ? "a sweep spec file" : "a sweep ID"));
  if (sub == "resume") return runOrResume(a, parseRunId(a.positional[1]));
  const SweepSpec spec = previewSweep(a.positional[1], a, /*json=*/false);
  int64_t id = 0;
  {
    auto store = openStore(a);
    id = SweepRunner::create(*store, spec);
  }
  std::fprintf(stderr, "created sweep %ld\n", long(id));
  return runOrResume(a, id);
}

}  // namespace moelab::cli
