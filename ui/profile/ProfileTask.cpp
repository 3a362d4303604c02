#include "profile/ProfileTask.h"

#include <QElapsedTimer>
#include <QtConcurrent>

#include "util/Errors.h"

namespace moelab::ui {
namespace {

template <typename Job>
ProfileTaskOutcome runJob(const QString& kind, Job job) {
  ProfileTaskOutcome o;
  o.kind = kind;
  QElapsedTimer timer;
  timer.start();
  try {
    o.result = job();
  } catch (const Cancelled&) {
    o.cancelled = true;
  } catch (const std::exception& e) {
    o.error = QString::fromUtf8(e.what());
  }
  o.seconds = double(timer.nsecsElapsed()) / 1e9;
  return o;
}

}  // namespace

ProfileTask::ProfileTask(QObject* parent) : QObject(parent) {
  connect(&watcher_, &QFutureWatcher<ProfileTaskOutcome>::finished, this, [this] {
    busy_ = false;
    emit finished(watcher_.result());
  });
}

ProfileTask::~ProfileTask() {
  cancel();
  watcher_.waitForFinished();
}

JobProgress ProfileTask::progressCallback() {
  stop_ = std::make_shared<std::atomic<bool>>(false);
  auto stop = stop_;
  // Called on the worker thread; the destructor waits for the job, so `self` outlives it, and
  // the queued call is dropped if the task is gone by the time it would run.
  ProfileTask* self = this;
  return [stop, self](int64_t done, int64_t total) {
    QMetaObject::invokeMethod(
        self, [self, done, total] { emit self->progressed(done, total); }, Qt::QueuedConnection);
    return !stop->load();
  };
}

bool ProfileTask::startProfile(const ProfileJobRequest& request) {
  if (running()) return false;
  auto progress = progressCallback();
  busy_ = true;
  watcher_.setFuture(QtConcurrent::run(
      [request, progress] { return runJob("profile", [&] { return runProfileJob(request, progress); }); }));
  return true;
}

bool ProfileTask::startReassignment(const ProfileJobRequest& request,
                                    const std::vector<std::string>& strategies,
                                    const nlohmann::json& scenarioDoc) {
  if (running()) return false;
  auto progress = progressCallback();
  busy_ = true;
  watcher_.setFuture(QtConcurrent::run([request, strategies, scenarioDoc, progress] {
    return runJob("reassignment",
                  [&] { return runReassignmentJob(request, strategies, scenarioDoc, progress); });
  }));
  return true;
}

void ProfileTask::cancel() {
  if (stop_) stop_->store(true);
}

}  // namespace moelab::ui
