#include "sweep/SweepRunner.h"

#include <unistd.h>

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "run/RunController.h"
#include "store/ExperimentStore.h"
#include "sweep/EarlyStopping.h"
#include "util/Errors.h"

namespace moelab {

struct SweepRunner::Task {
  int64_t index = 0;
  nlohmann::json config;
  std::string label;
  int64_t resumeRunId = 0;
  std::atomic<bool> stop{false};
  std::string pruneReason;  // set on the training thread when early stopping stops the run
};

namespace {

// Forwards a point's observations to the sweep's listener and makes its early-stopping decisions
// at each evaluation of the sweep metric, against the curves of the sweep's other runs.
class PointSink : public MetricSink {
 public:
  PointSink(ExperimentStore& store, const SweepSpec& spec, int64_t sweepId, int64_t index,
            std::atomic<bool>& stop, std::string& pruneReason, SweepListener* listener)
      : store_(store),
        spec_(spec),
        sweepId_(sweepId),
        index_(index),
        stop_(stop),
        pruneReason_(pruneReason),
        listener_(listener) {}

  // The run exists: its curve so far (a resumed run's earlier evaluations count).
  void attach(int64_t runId) {
    runId_ = runId;
    for (const auto& m : store_.metrics(runId, spec_.metric)) own_.push_back({m.step, m.value});
  }

  void onProgress(const TrainProgress& p) override {
    if (listener_) listener_->onPointProgress(index_, p);
  }
  void onNotice(const std::string& message) override {
    if (listener_) listener_->onNotice("#" + std::to_string(index_) + ": " + message);
  }
  void onWarning(const std::string& message) override {
    if (listener_) listener_->onNotice("#" + std::to_string(index_) + ": warning: " + message);
  }
  void onMetrics(const std::vector<MetricPoint>& points) override {
    for (const auto& m : points) {
      if (m.key != spec_.metric) continue;
      own_.push_back({m.step, m.value});
      if (listener_) listener_->onPointEval(index_, m.step, m.value);
      if (stop_ || spec_.earlyStopping.method == EarlyStoppingSpec::Method::None) continue;
      std::vector<MetricCurve> others;
      for (const auto& r : store_.sweepRuns(sweepId_)) {
        if (r.id == runId_) continue;
        MetricCurve c;
        for (const auto& p : store_.metrics(r.id, spec_.metric)) c.push_back({p.step, p.value});
        others.push_back(std::move(c));
      }
      const StopDecision d =
          earlyStoppingDecision(own_, others, m.step, spec_.earlyStopping, spec_.minimize(), spec_.metric);
      if (d.stop) {
        pruneReason_ = d.reason;
        stop_ = true;
        onNotice("pruned: " + d.reason);
      }
    }
  }

 private:
  ExperimentStore& store_;
  const SweepSpec& spec_;
  int64_t sweepId_, index_, runId_ = 0;
  std::atomic<bool>& stop_;
  std::string& pruneReason_;
  SweepListener* listener_;
  MetricCurve own_;
};

bool isDone(const std::string& status) {
  return status == "finished" || status == "failed" || status == "diverged" || status == "pruned";
}

}  // namespace

int64_t SweepRunner::create(ExperimentStore& store, const SweepSpec& spec) {
  std::vector<SweepPointRecord> records;
  for (const auto& p : expandSweep(spec))
    records.push_back({p.index, p.values, p.config, p.valid() ? "pending" : "invalid", p.error});
  return store.createSweep(spec.name, spec.toJson(), records);
}

SweepRunner::SweepRunner(ExperimentStore& store, std::string dbPath, int64_t sweepId, SweepOptions options,
                         SweepListener* listener)
    : store_(store),
      dbPath_(std::move(dbPath)),
      sweepId_(sweepId),
      options_(std::move(options)),
      listener_(listener) {
  auto rec = store_.sweep(sweepId_);
  if (!rec) throw UserError("no sweep with id " + std::to_string(sweepId_) + " in " + dbPath_);
  spec_ = SweepSpec::fromJson(rec->spec);
}

SweepOutcome SweepRunner::run(const std::atomic<bool>* stop) {
  SweepOutcome outcome;
  auto rec = store_.sweep(sweepId_);
  if (!rec) throw UserError("no sweep with id " + std::to_string(sweepId_) + " in " + dbPath_);

  // What is done and what remains, by the runs recorded for each point (their latest run).
  std::map<int64_t, RunRecord> latest;
  for (auto& r : store_.sweepRuns(sweepId_)) latest[r.sweepIndex] = r;
  std::deque<std::unique_ptr<Task>> queue;
  const auto points = store_.sweepPoints(sweepId_);
  int64_t done = 0;
  for (const auto& p : points) {
    auto it = latest.find(p.index);
    if (p.status == "invalid") {
      ++outcome.counts["invalid"];
      ++done;
      continue;
    }
    auto t = std::make_unique<Task>();
    t->index = p.index;
    t->config = p.config;
    t->label = SweepPoint{p.index, p.params, p.config, ""}.label();
    if (it != latest.end()) {
      const std::string& s = it->second.status;
      if (isDone(s)) {
        ++outcome.counts[s];
        ++done;
        continue;
      }
      if (s == "running")
        throw UserError("run " + std::to_string(it->second.id) + " of sweep " + std::to_string(sweepId_) +
                        " is still running in another process; stop that process first");
      t->resumeRunId = it->second.id;
    }
    queue.push_back(std::move(t));
  }
  if (rec->status == "running" && !queue.empty() && rec->pid != int64_t(getpid()))
    throw UserError("sweep " + std::to_string(sweepId_) + " is running in another process");

  concurrency_ = std::max<int64_t>(
      1, std::min<int64_t>(options_.concurrency > 0 ? options_.concurrency : spec_.maxConcurrent,
                           std::max<size_t>(1, queue.size())));
  const int64_t cores = options_.totalThreads > 0
                            ? options_.totalThreads
                            : int64_t(std::max(1u, std::thread::hardware_concurrency()));
  threadsPerRun_ = std::max<int64_t>(1, cores / concurrency_);
  store_.setSweepStatus(sweepId_, "running");
  if (listener_) listener_->onPlan(sweepId_, int64_t(points.size()), done, int64_t(queue.size()));

  std::mutex mutex;
  auto stopped = [&] { return (stop && *stop) || aborted_; };
  auto next = [&]() -> Task* {
    std::lock_guard<std::mutex> lock(mutex);
    if (queue.empty() || stopped()) return nullptr;
    Task* t = queue.front().release();
    queue.pop_front();
    return t;
  };
  std::atomic<int> running{int(concurrency_)};
  std::vector<std::thread> workers;
  std::atomic<bool> anyStop{false};
  for (int64_t w = 0; w < concurrency_; ++w)
    workers.emplace_back([&] {
      while (Task* t = next()) {
        std::unique_ptr<Task> owned(t);
        runTask(*t, anyStop);
      }
      --running;
    });
  // Tasks hold their own stop flags (early stopping stops one run); a sweep stop reaches them all.
  while (running > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (stopped() && !anyStop) anyStop = true;
  }
  for (auto& w : workers) w.join();

  // Count what happened from the store (the truth for resumed sweeps too).
  outcome.counts.clear();
  latest.clear();
  for (auto& r : store_.sweepRuns(sweepId_)) latest[r.sweepIndex] = r;
  bool allDone = true;
  for (const auto& p : store_.sweepPoints(sweepId_)) {
    auto it = latest.find(p.index);
    const std::string s = p.status == "invalid"   ? "invalid"
                          : it != latest.end()    ? it->second.status
                          : p.status == "refused" ? "refused"
                                                  : "pending";
    ++outcome.counts[s];
    if (s != "invalid" && s != "refused" && !isDone(s)) allDone = false;
  }
  if (aborted_) outcome.abortReason = abortReason_;
  outcome.interrupted = !allDone;
  store_.setSweepStatus(sweepId_, allDone ? "finished" : "interrupted");
  return outcome;
}

void SweepRunner::runTask(Task& t, const std::atomic<bool>& sweepStop) {
  RunRequest req;
  req.experiment = spec_.name;
  req.dataDir = options_.dataDir;
  req.checkpointBase = options_.checkpointBase;
  req.overrides = {"train.threads=" + std::to_string(threadsPerRun_)};
  req.resumeAdvice = "resume the sweep with `moelab-cli sweep resume " + std::to_string(sweepId_) +
                     "` (or Resume in the app's Sweeps tab)";
  if (t.resumeRunId > 0) {
    req.resumeRunId = t.resumeRunId;
  } else {
    req.configDoc = t.config;
    req.name = spec_.name + " #" + std::to_string(t.index) + " " + t.label;
    req.sweepId = sweepId_;
    req.sweepIndex = t.index;
  }
  PointSink sink(store_, spec_, sweepId_, t.index, t.stop, t.pruneReason, listener_);
  RunController controller([this]() -> ExperimentStore& { return store_; }, dbPath_, req, &sink);
  auto ended = [&](int64_t runId, const std::string& status, const std::string& error) {
    if (listener_) listener_->onPointEnded(t.index, runId, status, error);
  };
  try {
    controller.prepare();
  } catch (const std::exception& e) {
    const auto* torchError = dynamic_cast<const c10::Error*>(&e);
    const std::string msg = torchError ? torchError->what_without_backtrace() : e.what();
    if (controller.runId() == 0 || t.resumeRunId > 0) {
      // No run was created (or the resume was refused): the point keeps the reason; a resume of
      // the sweep tries it again.
      if (t.resumeRunId == 0) store_.setSweepPoint(sweepId_, t.index, "refused", msg);
      bool first = false;
      if (dynamic_cast<const DataMissingError*>(&e) && aborted_.compare_exchange_strong(first, true))
        abortReason_ = msg;  // every other point would fail the same way
      ended(t.resumeRunId, t.resumeRunId > 0 ? "failed" : "refused", msg);
    } else {
      ended(controller.runId(), "failed", controller.error());
    }
    return;
  }
  sink.attach(controller.runId());
  if (t.resumeRunId == 0) store_.setSweepPoint(sweepId_, t.index, "started");
  if (listener_) listener_->onPointStarted(t.index, controller.runId(), t.label, t.resumeRunId > 0);

  // The trainer watches one flag: the point's own (early stopping), raised too by a sweep stop.
  std::atomic<bool> done{false};
  std::thread relay([&] {
    while (!done) {
      if (sweepStop) t.stop = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  std::string status, error;
  try {
    const RunOutcome o = controller.run(&t.stop);
    status = toString(o);
    error = controller.error();
    if (o == RunOutcome::Interrupted && !t.pruneReason.empty() && !sweepStop) {
      status = "pruned";
      error = t.pruneReason;
      store_.setStatus(controller.runId(), status, error);
    }
  } catch (const std::exception&) {
    status = "failed";
    error = controller.error();
  }
  done = true;
  relay.join();
  ended(controller.runId(), status, error);
}

}  // namespace moelab
