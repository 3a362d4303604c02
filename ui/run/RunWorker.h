#pragma once
#include <QString>
#include <QThread>
#include <atomic>
#include <vector>

#include "run/RunRequest.h"
#include "run/TrainProgressType.h"

namespace moelab {
class ExperimentStore;
}

namespace moelab::ui {

// Trains one run on its own thread through the engine's run lifecycle (RunController), writing
// through the app's one connection to the database. What the run reports arrives as queued
// signals on the UI thread. Stop takes effect at the end of the current step.
class RunWorker : public QThread {
  Q_OBJECT
 public:
  RunWorker(ExperimentStore& store, QString dbPath, RunRequest request, QObject* parent = nullptr);
  ~RunWorker() override;
  void requestStop() { stop_ = true; }
  qint64 runId() const { return runId_; }
  const RunRequest& request() const { return request_; }

 signals:
  void started(qint64 runId);
  void progressed(qint64 runId, const moelab::TrainProgress& progress);
  void noticed(qint64 runId, const QString& text, bool warning);
  // The run ended: finished, interrupted, diverged or failed (`error` says why).
  void ended(qint64 runId, const QString& status, const QString& error);
  // Refused before a run existed (bad config, missing data, too large): nothing was recorded.
  void refused(const QString& message);
  // Refused because a data set or tokenizer folder is missing (a DataMissingDialog can fix it).
  void dataMissing(const QString& message, const QString& folder, const QString& fetchName,
                   const QString& fetchRoot);

 protected:
  void run() override;

 private:
  ExperimentStore& store_;
  QString dbPath_;
  RunRequest request_;
  std::atomic<bool> stop_{false};
  std::atomic<qint64> runId_{0};
};

}  // namespace moelab::ui
