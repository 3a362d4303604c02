#include "run/RunWorker.h"

// LibTorch uses `slots` as an identifier; Qt defines it as a macro.
#undef slots
#include "run/RunController.h"
#define slots Q_SLOTS
#include "util/Errors.h"

namespace moelab::ui {
namespace {

// MetricSink -> queued Qt signals of the worker (called on the training thread).
class SignalBridge : public MetricSink {
 public:
  explicit SignalBridge(RunWorker* w) : worker_(w) {}
  void onProgress(const TrainProgress& p) override { emit worker_->progressed(worker_->runId(), p); }
  void onNotice(const std::string& m) override {
    emit worker_->noticed(worker_->runId(), QString::fromStdString(m), false);
  }
  void onWarning(const std::string& m) override {
    emit worker_->noticed(worker_->runId(), QString::fromStdString(m), true);
  }

 private:
  RunWorker* worker_;
};

}  // namespace

RunWorker::RunWorker(ExperimentStore& store, QString dbPath, RunRequest request, QObject* parent)
    : QThread(parent), store_(store), dbPath_(std::move(dbPath)), request_(std::move(request)) {
  qRegisterMetaType<moelab::TrainProgress>();
}

RunWorker::~RunWorker() {
  requestStop();
  wait();
}

void RunWorker::run() {
  SignalBridge bridge(this);
  RunController controller([this]() -> ExperimentStore& { return store_; }, dbPath_.toStdString(), request_,
                           &bridge);
  try {
    controller.prepare();
  } catch (const DataMissingError& e) {
    emit dataMissing(QString::fromStdString(e.what()), QString::fromStdString(e.folder),
                     QString::fromStdString(e.fetchName), QString::fromStdString(e.fetchRoot));
    return;
  } catch (const std::exception& e) {
    if (controller.runId() == 0 || request_.resumeRunId != 0) {
      emit refused(QString::fromStdString(controller.error().empty() ? e.what() : controller.error()));
      return;
    }
    emit ended(controller.runId(), "failed", QString::fromStdString(controller.error()));
    return;
  }
  runId_ = controller.runId();
  emit started(runId_);
  try {
    const RunOutcome outcome = controller.run(&stop_);
    emit ended(runId_, QString::fromStdString(toString(outcome)), QString::fromStdString(controller.error()));
  } catch (const std::exception&) {
    emit ended(runId_, "failed", QString::fromStdString(controller.error()));
  }
}

}  // namespace moelab::ui
