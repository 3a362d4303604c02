#pragma once
#include <QObject>
#include <QProcess>
#include <QString>
#include <QTemporaryDir>
#include <memory>
#include <nlohmann/json.hpp>

#include "run/TrainProgressType.h"

namespace moelab::ui {

// A data-parallel run with N local ranks: `moelab-cli train --nproc N` as a child process (the ranks
// are processes; the app's own threads cannot be ranks). Rank 0 records the run in the app's
// database, where the live views find it; this object reads the CLI's lines for the run id, the
// progress and the outcome, and turns them into the same signals a RunWorker sends. Stop sends
// SIGTERM to the launcher, which asks every rank to stop at a step and save.
class RankedRunProcess : public QObject {
  Q_OBJECT
 public:
  RankedRunProcess(QString dbPath, nlohmann::json config, QString experiment, QString name, int ranks,
                   int threads, QString dataDir, QObject* parent = nullptr);
  ~RankedRunProcess() override;
  // Continue run `id` instead of starting one from the config (same number of ranks).
  void setResume(qint64 id) { resumeId_ = id; }
  void start();
  void requestStop();
  bool waitForFinished(int msecs) { return process_.waitForFinished(msecs); }
  qint64 runId() const { return runId_; }
  // Where the CLI is looked for: beside the app's executable.
  static QString cliPath();

 signals:
  void started(qint64 runId);
  void progressed(qint64 runId, const moelab::TrainProgress& progress);
  void noticed(qint64 runId, const QString& text, bool warning);
  void ended(qint64 runId, const QString& status, const QString& error);
  void refused(const QString& message);

 private:
  void readLines();
  void handleLine(const QString& line);
  void finish(int exitCode, QProcess::ExitStatus status);

  QProcess process_;
  QTemporaryDir configDir_;
  QString dbPath_, experiment_, name_, dataDir_;
  nlohmann::json config_;
  int ranks_, threads_;
  qint64 runId_ = 0, resumeId_ = 0;
  QString status_, lastError_;
  QByteArray pending_;
};

}  // namespace moelab::ui
