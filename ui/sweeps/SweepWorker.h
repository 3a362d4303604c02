#pragma once
#include <QString>
#include <QThread>
#include <atomic>
#include <nlohmann/json.hpp>

namespace moelab {
class ExperimentStore;
}

namespace moelab::ui {

// Runs a sweep on its own thread through the engine's sweep queue (SweepRunner), writing through
// the app's one database connection: creates it from a spec first, or resumes an existing one.
// What it reports arrives as queued signals on the UI thread; stop interrupts every run at its
// next step (each saves a checkpoint; the sweep resumes later).
class SweepWorker : public QThread {
  Q_OBJECT
 public:
  SweepWorker(ExperimentStore& store, QString dbPath, nlohmann::json spec, qint64 resumeSweepId,
              QString dataDir, QObject* parent = nullptr);
  ~SweepWorker() override;
  void requestStop() { stop_ = true; }
  qint64 sweepId() const { return sweepId_; }

 signals:
  void created(qint64 sweepId);
  void planned(qint64 sweepId, int total, int done, int toRun);
  void pointStarted(qint64 sweepId, int index, qint64 runId);
  void pointEnded(qint64 sweepId, int index, qint64 runId, const QString& status, const QString& error);
  // The queue ended: finished, interrupted (stopped), or stopped with `error` (data missing, a
  // sweep another process runs).
  void ended(qint64 sweepId, bool interrupted, const QString& error);

 protected:
  void run() override;

 private:
  ExperimentStore& store_;
  QString dbPath_, dataDir_;
  nlohmann::json spec_;
  std::atomic<qint64> sweepId_;
  std::atomic<bool> stop_{false};
};

}  // namespace moelab::ui
