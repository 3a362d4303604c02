#pragma once
#include <QWidget>

#include "sweeps/SweepSnapshot.h"

class QLineEdit;
class QTableView;
class QTabWidget;
class QComboBox;
class QChartView;
class QLabel;

namespace moelab::ui {

class SweepTableModel;
class SweepFilterProxy;
class ParallelCoordinatesWidget;
class MetricChart;
class ScalingView;

// One sweep's results: the sortable, filterable table (best run highlighted) above charts of the
// metric against each swept parameter, parallel coordinates whose brushes filter the table, the
// runs' metric curves overlaid, and the scaling view across sweeps.
class SweepResultsView : public QWidget {
  Q_OBJECT
 public:
  explicit SweepResultsView(QWidget* parent = nullptr);
  void setSnapshot(const SweepSnapshot& s);
  // Writes the CSV and a PNG of every chart into `dir` (the report's figures); returns the files.
  QStringList exportFigures(const QString& dir);

  QTableView* table() const { return table_; }
  SweepFilterProxy* proxy() const { return proxy_; }
  SweepTableModel* model() const { return model_; }
  ParallelCoordinatesWidget* parallel() const { return parallel_; }
  ScalingView* scaling() const { return scaling_; }
  MetricChart* curves() const { return curves_; }
  QTabWidget* charts() const { return charts_; }
  QComboBox* scatterParameter() const { return scatterParam_; }
  QChartView* scatter() const { return scatter_; }
  QLineEdit* filter() const { return filter_; }

 signals:
  void runActivated(qint64 runId);

 private:
  void rebuildScatter();
  void rebuildParallel();
  SweepTableModel* model_;
  SweepFilterProxy* proxy_;
  QLineEdit* filter_;
  QTableView* table_;
  QTabWidget* charts_;
  QComboBox* scatterParam_;
  QChartView* scatter_;
  ParallelCoordinatesWidget* parallel_;
  MetricChart* curves_;
  ScalingView* scaling_;
  QLabel* brushNote_;
  SweepSnapshot snapshot_;
};

}  // namespace moelab::ui
