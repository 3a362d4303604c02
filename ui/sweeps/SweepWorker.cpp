#include "sweeps/SweepWorker.h"

#include "sweep/SweepRunner.h"

namespace moelab::ui {
namespace {

class SignalListener : public SweepListener {
 public:
  explicit SignalListener(SweepWorker* w) : w_(w) {}
  void onPlan(int64_t id, int64_t total, int64_t done, int64_t toRun) override {
    emit w_->planned(id, int(total), int(done), int(toRun));
  }
  void onPointStarted(int64_t index, int64_t runId, const std::string&, bool) override {
    emit w_->pointStarted(w_->sweepId(), int(index), runId);
  }
  void onPointEnded(int64_t index, int64_t runId, const std::string& status,
                    const std::string& error) override {
    emit w_->pointEnded(w_->sweepId(), int(index), runId, QString::fromStdString(status),
                        QString::fromStdString(error));
  }

 private:
  SweepWorker* w_;
};

}  // namespace

SweepWorker::SweepWorker(ExperimentStore& store, QString dbPath, nlohmann::json spec, qint64 resumeSweepId,
                         QString dataDir, QObject* parent)
    : QThread(parent),
      store_(store),
      dbPath_(std::move(dbPath)),
      dataDir_(std::move(dataDir)),
      spec_(std::move(spec)),
      sweepId_(resumeSweepId) {}

SweepWorker::~SweepWorker() {
  stop_ = true;
  wait();
}

void SweepWorker::run() {
  try {
    if (sweepId_ == 0) {
      sweepId_ = SweepRunner::create(store_, SweepSpec::fromJson(spec_));
      emit created(sweepId_);
    }
    SignalListener listener(this);
    SweepOptions options;
    options.dataDir = dataDir_.toStdString();
    SweepRunner runner(store_, dbPath_.toStdString(), sweepId_, options, &listener);
    const SweepOutcome o = runner.run(&stop_);
    emit ended(sweepId_, o.interrupted, QString::fromStdString(o.abortReason));
  } catch (const std::exception& e) {
    emit ended(sweepId_, true, QString::fromUtf8(e.what()));
  }
}

}  // namespace moelab::ui
