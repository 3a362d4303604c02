#pragma once
#include <QElapsedTimer>
#include <QFutureWatcher>
#include <QMap>
#include <QWidget>
#include <nlohmann/json.hpp>

#include "store/RunSummary.h"

class QComboBox;
class QSpinBox;
class QPushButton;
class QLabel;

namespace moelab::sim {
struct MeasuredTraffic;
}

namespace moelab::ui {

class ScenarioForm;
class SimulationResultView;

struct SimulationOutcome {
  nlohmann::json result;
  QString error;
  double seconds = 0;
};

struct MeasuredRouting {
  qint64 run = 0;
  int64_t step = -1;
  int topK = 0;
  std::vector<std::vector<double>> counts;
  QString database, error;
};

// The network simulator: a scenario form generated from the simulator's schema, presets from
// experiments/sim/, load/save JSON, "Use a run's routing" (a sparse_moe run's stored expert counts
// become the traffic), Run in a worker thread, and the result's charts with PNG/CSV/JSON export.
// The last scenario is kept between sessions (QSettings).
class SimulatorPane : public QWidget {
  Q_OBJECT
 public:
  explicit SimulatorPane(QWidget* parent = nullptr);

  void setDatabase(const QString& path);
  void mergeRuns(const RunSummaries& runs, bool complete);  // sparse_moe runs feed the routing picker
  bool loadScenarioFile(const QString& path);               // false (message shown) when invalid
  void run();                                               // simulate the form's scenario
  void useRunRouting(qint64 run, int64_t step);             // step < 0: the run's latest counts
  // Measured tokens per expert, per MoE layer (and per source shard when measured), become the
  // form's traffic and the scenario runs (a routing profile's "Simulate this profile"); `what`
  // names the source in the status line. false (message shown) when the counts cannot be used.
  bool simulateMeasuredTraffic(const sim::MeasuredTraffic& traffic, const QString& what);
  bool exportCsv(const QString& path) const;
  bool exportJson(const QString& path) const;

  ScenarioForm* form() const { return form_; }
  SimulationResultView* results() const { return results_; }
  QComboBox* presets() const { return presets_; }
  QComboBox* routingRuns() const { return runs_; }
  QPushButton* runButton() const { return run_; }
  QLabel* statusLabel() const { return status_; }
  const nlohmann::json& result() const { return result_; }

 signals:
  void simulated(bool ok, const QString& message);
  void routingLoaded(bool ok, const QString& message);

 private:
  void finished(const SimulationOutcome& o);
  void applyRouting(const MeasuredRouting& r);
  bool useTraffic(const sim::MeasuredTraffic& traffic, const QString& what, QString& msg);
  void showMessage(const QString& text, bool error);
  ScenarioForm* form_;
  SimulationResultView* results_;
  QComboBox *presets_, *runs_;
  QSpinBox* step_;
  QPushButton *run_, *useRouting_, *load_, *save_, *exportButton_;
  QLabel* status_;
  QString dbPath_;
  QMap<qint64, QString> sparseRuns_;
  nlohmann::json result_;
  bool again_ = false;
  QFutureWatcher<SimulationOutcome> simWatcher_;
  QFutureWatcher<MeasuredRouting> routingWatcher_;
};

}  // namespace moelab::ui
