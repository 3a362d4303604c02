#pragma once
#include <QFutureWatcher>
#include <QObject>
#include <QString>
#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "profile/ProfileJob.h"

namespace moelab::ui {

struct ProfileTaskOutcome {
  QString kind;           // "profile" | "reassignment"
  nlohmann::json result;  // the job's JSON (stored in the database when it names a run)
  QString error;          // what went wrong, as the engine said it
  bool cancelled = false;
  double seconds = 0;
};

// Runs one routing profile or reassignment study in a worker thread (the UI never waits for a
// model): progress comes back as a signal, Cancel stops it at the next batch.
class ProfileTask : public QObject {
  Q_OBJECT
 public:
  explicit ProfileTask(QObject* parent = nullptr);
  ~ProfileTask() override;  // cancels and waits: the job holds no UI state

  // false when a job is already running.
  bool startProfile(const ProfileJobRequest& request);
  bool startReassignment(const ProfileJobRequest& request, const std::vector<std::string>& strategies,
                         const nlohmann::json& scenarioDoc);
  void cancel();
  // From start until `finished` is delivered (the watcher stops running a little earlier).
  bool running() const { return busy_; }

 signals:
  void progressed(qint64 done, qint64 total);
  void finished(const moelab::ui::ProfileTaskOutcome& outcome);

 private:
  JobProgress progressCallback();
  QFutureWatcher<ProfileTaskOutcome> watcher_;
  std::shared_ptr<std::atomic<bool>> stop_;
  bool busy_ = false;
};

}  // namespace moelab::ui
