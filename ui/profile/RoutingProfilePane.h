#pragma once
#include <QFutureWatcher>
#include <QMap>
#include <QWidget>
#include <vector>

#include "profile/StoredAnalyses.h"
#include "sim/TrafficModel.h"
#include "store/RunSummary.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTabWidget;

namespace moelab::ui {

class ProfileTask;
struct ProfileTaskOutcome;
class ReassignmentView;
class RoutingProfileView;

// The routing profiler: pick a trained sparse_moe or gnn_moe run, the text (a split or a file) and
// the options, Profile in a worker thread; stored profiles of every run listed; the selected one
// drawn (layer × expert heatmap, per-layer bars, imbalance table) and optionally a second one side
// by side (two runs, or a run before and after fine-tuning); PNG/JSON/CSV export; "Simulate this
// profile" hands its per-layer loads to the network simulator. The Reassignment tab runs and shows
// the strategy comparison table.
class RoutingProfilePane : public QWidget {
  Q_OBJECT
 public:
  explicit RoutingProfilePane(QWidget* parent = nullptr);
  ~RoutingProfilePane() override;

  void setDatabase(const QString& path);
  void setDataDirectory(const QString& dir) { dataDir_ = dir; }
  void mergeRuns(const RunSummaries& runs, bool complete);  // sparse_moe and gnn_moe runs
  void refreshStored();                                     // re-reads the stored analyses
  bool startProfile();       // false (and a message) when no run is chosen or a job is running
  bool startReassignment();  // the Reassignment tab's strategies on the chosen run
  void cancel();
  bool selectProfile(qint64 id);  // in the stored list (left view)
  bool compareWith(qint64 id);    // right view; 0 = none
  bool exportJson(const QString& path) const;
  bool exportCsv(const QString& path) const;
  bool exportPng(const QString& path) const;
  void simulateShown();  // emits simulateRequested for the left view's profile

  QComboBox* runsCombo() const { return runs_; }
  QComboBox* strategyCombo() const { return strategy_; }
  QComboBox* sourceCombo() const { return source_; }
  QLineEdit* fileEdit() const { return file_; }
  QSpinBox* shardsSpin() const { return shards_; }
  QSpinBox* samplesSpin() const { return samples_; }
  QCheckBox* perplexityCheck() const { return perplexity_; }
  QPushButton* profileButton() const { return profile_; }
  QPushButton* cancelButton() const { return cancel_; }
  QPushButton* simulateButton() const { return simulate_; }
  QProgressBar* progressBar() const { return progress_; }
  QLabel* statusLabel() const { return status_; }
  QTableWidget* storedTable() const { return stored_; }
  QComboBox* compareCombo() const { return compare_; }
  RoutingProfileView* leftView() const { return left_; }
  RoutingProfileView* rightView() const { return right_; }
  ReassignmentView* reassignmentView() const { return reassign_; }
  QComboBox* storedReassignments() const { return storedTables_; }
  QTabWidget* views() const { return tabs_; }
  int storedProfiles() const { return int(analyses_.profiles.size()); }

 signals:
  void simulateRequested(const sim::MeasuredTraffic& traffic, const QString& what);
  void jobFinished(bool ok, const QString& message);  // a profile or reassignment ended
  void storedLoaded(int profiles);

 private:
  struct JobInputs;
  bool prepare(JobInputs& in);
  void finished(const ProfileTaskOutcome& o);
  void storedRead(const StoredAnalyses& a);
  void showMessage(const QString& text, bool error);
  void setBusy(bool busy);                 // a job started or ended: buttons and the progress bar
  void updateButtons();                    // runs came or went: what can be started
  void showEvent(QShowEvent* e) override;  // profiles the CLI stored meanwhile show up
  const StoredAnalysis* findProfile(qint64 id) const;
  void showInView(RoutingProfileView* view, const StoredAnalysis& a);
  void showStoredTable(int index);
  QString dbPath_, dataDir_;
  QMap<qint64, RunSummary> runsById_;
  StoredAnalyses analyses_;
  qint64 selectAfterRead_ = 0, tableAfterRead_ = 0;
  qint64 leftId_ = 0, jobRun_ = 0;  // the profile in the left view; the run of the running job
  QString jobDatabase_;
  nlohmann::json leftContent_;  // the left view's profile as stored (checkpoint, step, id included)
  ProfileTask* task_;
  QFutureWatcher<StoredAnalyses> reader_;
  bool readAgain_ = false;

  QComboBox *runs_, *which_, *source_, *strategy_, *compare_, *storedTables_;
  QLineEdit* file_;
  QPushButton *browse_, *profile_, *cancel_, *simulate_;
  QSpinBox *shards_, *positions_, *samples_, *batch_;
  QCheckBox* perplexity_;
  QProgressBar* progress_;
  QLabel* status_;
  QTableWidget* stored_;
  QTabWidget* tabs_;
  RoutingProfileView *left_, *right_;
  ReassignmentView* reassign_;
};

}  // namespace moelab::ui
