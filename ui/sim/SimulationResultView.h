#pragma once
#include <QWidget>
#include <nlohmann/json.hpp>

class QChartView;
class QTableWidget;
class QLabel;

namespace moelab::ui {

class BarsWidget;
class HeatmapWidget;

// Charts of one runScenario() result: the per-collective figures (time, bytes, algbw/busbw as
// nccl-tests defines them, copies per token, bounding link), per-GPU dispatch and combine finish
// times (slowest GPU marked), the step-time distribution with P50/P95/P99, the GPU x GPU (or
// node x node) traffic matrix with node blocks outlined, the dispatch time breakdown (bandwidth /
// imbalance / per-peer / latency) and the comparison of strategies, placements and algorithms as a
// table and a speed-up chart, with the comparisons that were left out and why.
class SimulationResultView : public QWidget {
  Q_OBJECT
 public:
  explicit SimulationResultView(QWidget* parent = nullptr);
  void setResult(const nlohmann::json& result);
  const nlohmann::json& result() const { return result_; }

  BarsWidget* dispatchBars() const { return dispatch_; }
  BarsWidget* combineBars() const { return combine_; }
  HeatmapWidget* trafficMatrix() const { return matrix_; }
  QChartView* stepTimeChart() const { return steps_; }
  QChartView* breakdownChart() const { return breakdown_; }
  QChartView* comparisonChart() const { return speedup_; }
  QTableWidget* comparisonTable() const { return table_; }
  QTableWidget* collectivesTable() const { return collectives_; }
  QLabel* skippedNote() const { return skipped_; }
  // Every chart as <folder>/<name>.png; false when one cannot be written.
  bool saveChartsPng(const QString& folder) const;

 private:
  void fillStepTimes();
  void fillBreakdown();
  void fillComparison();
  void fillCollectives();
  nlohmann::json result_;
  QLabel *summary_, *skipped_;
  BarsWidget *dispatch_, *combine_;
  HeatmapWidget* matrix_;
  QChartView *steps_, *breakdown_, *speedup_;
  QTableWidget *table_, *collectives_;
};

}  // namespace moelab::ui
