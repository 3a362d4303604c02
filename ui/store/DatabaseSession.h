#pragma once
#include <QObject>
#include <QString>
#include <QThread>
#include <memory>

namespace moelab {
class ExperimentStore;
}

namespace moelab::ui {

class StorePoller;

// An open experiment database: the app's one writer connection (shared by its run workers) and a
// StorePoller on its own thread with its own read-only connection.
class DatabaseSession : public QObject {
  Q_OBJECT
 public:
  // Opens (creating a new database file if needed). Throws UserError naming the problem.
  explicit DatabaseSession(const QString& path, int pollIntervalMs = 1000, QObject* parent = nullptr);
  ~DatabaseSession() override;
  ExperimentStore& store() { return *store_; }
  // Starts the poller's thread: call once its signals are connected (its first poll carries the
  // whole runs table and would be lost before).
  void startPolling();
  StorePoller* poller() const { return poller_; }
  QString path() const { return path_; }
  void pollNow();
  void watch(qint64 run, const QStringList& keys);  // only these charts' rows from now on

 private:
  QString path_;
  std::unique_ptr<ExperimentStore> store_;
  QThread thread_;
  StorePoller* poller_;
};

}  // namespace moelab::ui
