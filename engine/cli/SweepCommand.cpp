#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>

#include "cli/CliCommon.h"
#include "cli/Commands.h"
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

// The expansion, as `sweep preview` and `sweep run` print it before anything starts.
void printPreview(const SweepSpec& spec, const std::vector<SweepPoint>& points, bool json) {
  int invalid = 0;
  for (const auto& p : points) invalid += !p.valid();
  if (json) {
    nlohmann::json out = {{"name", spec.name}, {"method", spec.method}, {"points", nlohmann::json::array()}};
    for (const auto& p : points)
      out["points"].push_back(
          {{"index", p.index}, {"values", p.values}, {"valid", p.valid()}, {"error", p.error}});
    out["runs"] = int(points.size()) - invalid;
    out["invalid"] = invalid;
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::printf(
      "sweep '%s': %s over %zu parameter(s) -> %zu points (%d invalid), metric %s (%s), %ld at a time%s\n",
      spec.name.c_str(), spec.method.c_str(), spec.params.size(), points.size(), invalid, spec.metric.c_str(),
      spec.goal.c_str(), long(spec.maxConcurrent),
      spec.earlyStopping.method == EarlyStoppingSpec::Method::None
          ? ""
          : (", early stopping " + spec.earlyStopping.toJson()["method"].get<std::string>()).c_str());
  for (const auto& p : points)
    std::printf("  #%-4ld %s%s%s\n", long(p.index), p.label(false).c_str(),
                p.valid() ? "" : "  INVALID: ", p.error.c_str());
}

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

int sweepCommand(const Words& words) {
  auto a = CliArgs::parse(words, {"json"},
                          {"db", "data-dir", "concurrency", "threads", "checkpoint-dir", "csv", "name"});
  if (a.positional.empty())
    throw UserError("sweep needs a subcommand: preview SPEC, run SPEC, resume ID, list, show ID, export ID");
  const std::string sub = a.positional[0];
  auto needOne = [&](const char* what) {
    if (a.positional.size() != 2) throw UserError("sweep " + sub + " needs " + what);
    return a.positional[1];
  };
  if (sub == "preview" || sub == "run") {
    SweepSpec spec = SweepSpec::load(needOne("a sweep spec file"));
    if (a.has("name")) spec.name = a.get("name");
    const auto points = expandSweep(spec);
    printPreview(spec, points, a.has("json") && sub == "preview");
    int valid = 0;
    for (const auto& p : points) valid += p.valid();
    if (valid == 0) throw UserError("every point of the sweep is invalid; nothing to run");
    if (sub == "preview") return 0;
    int64_t id = 0;
    {
      auto store = openStore(a);
      id = SweepRunner::create(*store, spec);
    }
    std::fprintf(stderr, "created sweep %ld\n", long(id));
    return runOrResume(a, id);
  }
  if (sub == "resume") return runOrResume(a, parseRunId(needOne("a sweep ID")));
  auto store = openStore(a, /*mustExist=*/true, /*readOnly=*/true);
  if (sub == "list") {
    const auto sweeps = store->listSweeps();
    if (a.has("json")) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& s : sweeps) out.push_back(SweepTable::load(*store, s.id).toJson());
      std::cout << out.dump(2) << "\n";
      return 0;
    }
    std::printf("%-5s %-28s %-12s %7s  %s\n", "id", "name", "status", "points", "summary");
    for (const auto& s : sweeps)
      std::printf("%-5ld %-28s %-12s %7ld  %s\n", long(s.id), s.name.substr(0, 28).c_str(), s.status.c_str(),
                  long(s.points), SweepTable::load(*store, s.id).summaryLine().c_str());
    return 0;
  }
  const int64_t id = parseRunId(needOne("a sweep ID"));
  const SweepTable t = SweepTable::load(*store, id);
  if (sub == "show") {
    if (a.has("json")) {
      std::cout << t.toJson().dump(2) << "\n";
      return 0;
    }
    std::printf("sweep %ld '%s': %s, %s, metric %s (%s)\n%s\n", long(id), t.sweep.name.c_str(),
                t.sweep.status.c_str(), t.spec.method.c_str(), t.spec.metric.c_str(), t.spec.goal.c_str(),
                t.summaryLine().c_str());
    std::printf("  %-5s %-6s %-12s %10s %10s %9s  %s\n", "point", "run", "status", "best", "final", "params",
                "values");
    for (size_t i = 0; i < t.rows.size(); ++i) {
      const auto& r = t.rows[i];
      std::printf("%s %-5ld %-6s %-12s %10s %10s %9s  %s%s%s\n", int(i) == t.bestRow ? "*" : " ",
                  long(r.index), r.runId > 0 ? std::to_string(r.runId).c_str() : "-", r.status.c_str(),
                  std::isnan(r.best) ? "-" : formatMetric(r.best).c_str(),
                  std::isnan(r.final) ? "-" : formatMetric(r.final).c_str(),
                  r.parameters > 0 ? std::to_string(r.parameters).c_str() : "-",
                  SweepPoint{r.index, r.values, nullptr, ""}.label().c_str(), r.error.empty() ? "" : "  ",
                  r.error.substr(0, 120).c_str());
    }
    return 0;
  }
  if (sub == "export") {
    const std::string out = a.get("csv", "");
    if (out.empty()) throw UserError("sweep export needs --csv OUT (or --csv - for stdout)");
    if (out == "-") {
      t.writeCsv(std::cout);
      return 0;
    }
    std::ofstream f(out);
    if (!f) throw UserError("cannot write " + out);
    t.writeCsv(f);
    f.close();
    if (!f) throw std::runtime_error("writing " + out + " failed");
    std::fprintf(stderr, "wrote %zu rows to %s\n", t.rows.size(), out.c_str());
    return 0;
  }
  throw UserError("unknown sweep subcommand '" + sub + "' (preview, run, resume, list, show, export)");
}

}  // namespace moelab::cli
