#pragma once
#include <QFutureWatcher>
#include <QList>
#include <QTimer>
#include <QWidget>
#include <nlohmann/json.hpp>

#include "sweeps/SweepSnapshot.h"

class QTableWidget;
class QTabWidget;
class QLabel;
class QPushButton;

namespace moelab {
class ExperimentStore;
}

namespace moelab::ui {

class SweepEditor;
class SweepResultsView;
class SweepWorker;

// The Sweeps tab: the database's sweeps on the left; a sweep editor (New sweep) and the selected
// sweep's results on the right, with Resume, Stop, CSV and report export. Sweeps run on worker
// threads (SweepWorker) through the app's database connection; everything shown is read on a
// worker thread through a read-only connection and refreshed while sweeps run.
class SweepsPane : public QWidget {
  Q_OBJECT
 public:
  explicit SweepsPane(QWidget* parent = nullptr);
  ~SweepsPane() override;
  // The open database (null: none). Reads it and offers to resume interrupted sweeps.
  void setDatabase(ExperimentStore* store, const QString& path);
  void setDataDirectory(const QString& dir) { dataDir_ = dir; }
  void setQuiet(bool quiet) { quiet_ = quiet; }  // tests: no dialogs

  void startSweep(const nlohmann::json& spec);
  void resumeSweep(qint64 id);
  void stopAll();             // every running sweep stops (runs checkpoint); waits for the threads
  int runningSweeps() const;  // worker threads still running
  void selectSweep(qint64 id);
  void refresh();
  bool exportReport(const QString& dir);  // index.html, the CSV and every chart

  SweepEditor* editor() const { return editor_; }
  SweepResultsView* results() const { return results_; }
  QTableWidget* sweepList() const { return list_; }
  QTabWidget* tabs() const { return tabs_; }
  const SweepSnapshot& snapshot() const { return snapshot_; }

 signals:
  void snapshotLoaded();
  void sweepEnded(qint64 id, bool interrupted, const QString& error);
  // Interrupted sweeps found on opening a database (quiet mode: instead of the dialog).
  void resumeOffered(const QList<qint64>& ids);
  void runActivated(qint64 runId);
  void message(const QString& text);

 protected:
  void showEvent(QShowEvent* e) override;

 private:
  void launch(SweepWorker* w);
  void applySnapshot();
  void updateButtons();
  ExperimentStore* store_ = nullptr;
  QString dbPath_, dataDir_;
  bool quiet_ = false, offerPending_ = false, reloadPending_ = false;
  qint64 selected_ = 0;
  QList<SweepWorker*> workers_;
  QFutureWatcher<SweepSnapshot> watcher_;
  SweepSnapshot snapshot_;
  QTimer poll_;
  QTableWidget* list_;
  QTabWidget* tabs_;
  SweepEditor* editor_;
  SweepResultsView* results_;
  QLabel* status_;
  QPushButton *resume_, *stop_, *exportCsv_, *exportReport_;
};

}  // namespace moelab::ui
