#pragma once
#include <QList>
#include <QMainWindow>
#include <QMap>
#include <QPointer>
#include <memory>
#include <nlohmann/json.hpp>

#include "metrics/Metrics.h"

class QLabel;
class QTabWidget;
class QMenu;

namespace moelab::ui {

class DatabaseSession;
class RunsTableModel;
class RunsPane;
class ExperimentPane;
class RunPage;
class RunWorker;
class RankedRunProcess;
class ComparePane;
class ExportService;
class ExpertViewsPane;
class SimulatorPane;
class SweepsPane;
class RoutingProfilePane;

// Composition root of the desktop app: wires the open database (DatabaseSession), the panes
// (Runs, Experiment, Run, Compare, Sweeps, Experts, Routing profile, Network) and the run workers.
// Holds no training math and no SQL.
class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  bool openDatabase(const QString& path);  // false (and a message) when it cannot be opened
  // ranks > 1: a data-parallel run of that many local processes (moelab-cli train --nproc).
  void startRun(const nlohmann::json& config, const QString& experiment, const QString& name, int ranks = 1);
  void resumeRun(qint64 runId);
  void stopRun(qint64 runId);
  void showRun(qint64 runId);
  int liveRuns() const { return int(workers_.size() + rankedRuns_.size()); }

  DatabaseSession* session() const { return session_.get(); }
  RunsTableModel* runsModel() const { return runsModel_; }
  RunsPane* runsPane() const { return runsPane_; }
  ExperimentPane* experimentPane() const { return experimentPane_; }
  RunPage* runPage() const { return runPage_; }
  ComparePane* comparePane() const { return comparePane_; }
  ExportService* exports() const { return exports_; }
  ExpertViewsPane* expertViews() const { return expertViews_; }
  SimulatorPane* simulatorPane() const { return simulatorPane_; }
  SweepsPane* sweepsPane() const { return sweepsPane_; }
  RoutingProfilePane* routingProfilePane() const { return routingProfile_; }
  void compareRuns(const QList<qint64>& runIds);
  // Where runs look for data first (Choose folder / Fetch in the data-missing dialog; saved).
  QString dataDirectory() const { return dataDir_; }
  void setDataDirectory(const QString& dir);
  QTabWidget* tabs() const { return tabs_; }

 signals:
  void runEnded(qint64 runId, const QString& status);
  void runRefused(const QString& message);
  // Quiet mode (tests): a start refused for missing data, instead of the dialog.
  void dataMissing(const QString& folder, const QString& fetchName, const QString& fetchRoot);
  void exportFinished(bool ok, const QString& message);

 protected:
  void closeEvent(QCloseEvent* e) override;

 private:
  void launch(RunWorker* worker);
  void launch(RankedRunProcess* job);
  int rankedThreads(const nlohmann::json& config, int ranks) const;
  int runRanks(qint64 runId) const;
  void stopRankedRuns();  // closing: every rank stops and saves; waits for them  // 1, or the data-parallel
                          // ranks the run trained with
  // What every kind of run job reports, the same way.
  void onRunStarted(qint64 id);
  void onRunProgressed(qint64 id, const TrainProgress& p);
  void onRunNoticed(qint64 id, const QString& text, bool warning);
  void onRunEnded(qint64 id, const QString& status, const QString& error);
  void onRunRefused(const QString& message);
  void offerData(RunWorker* worker, const QString& message, const QString& folder, const QString& fetchName,
                 const QString& fetchRoot);
  void updateRecentMenu();
  std::unique_ptr<DatabaseSession> session_;
  RunsTableModel* runsModel_;
  RunsPane* runsPane_;
  ExperimentPane* experimentPane_;
  RunPage* runPage_;
  ComparePane* comparePane_;
  ExpertViewsPane* expertViews_;
  SimulatorPane* simulatorPane_;
  SweepsPane* sweepsPane_;
  RoutingProfilePane* routingProfile_;
  ExportService* exports_;
  QTabWidget* tabs_;
  QString dataDir_;
  QMenu* recent_;
  QLabel* status_;
  QMap<qint64, RunWorker*> workers_;              // live runs of this process
  QMap<qint64, RankedRunProcess*> rankedRuns_;    // live data-parallel runs (child processes)
  QList<QPointer<RankedRunProcess>> rankedJobs_;  // every job started, with or without a run id yet
  bool quiet_ = false;                            // tests: messages go to runRefused, not dialogs
 public:
  void setQuiet(bool q);
};

}  // namespace moelab::ui
