#pragma once
#include <QFutureWatcher>
#include <QWidget>

#include "compare/ComparisonLoader.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;
class QTableWidget;

namespace moelab::ui {

class MetricChart;
class ExportService;

// Runs side by side: one metric's curves overlaid (any metric the runs logged), and a table of
// their configs and final/best metrics with the fields that differ highlighted. Exports the
// chart (PNG), the table (CSV) and a comparison report. Loads in the background.
class ComparePane : public QWidget {
  Q_OBJECT
 public:
  explicit ComparePane(ExportService* exports, QWidget* parent = nullptr);
  void setDatabase(const QString& path);
  void compare(const QList<qint64>& runIds);  // loads, then shows (loaded() when done)
  const ComparisonData& data() const { return data_; }
  MetricChart* chart() const { return chart_; }
  QTableWidget* table() const { return table_; }
  QComboBox* metricBox() const { return metric_; }
  QCheckBox* onlyDifferences() const { return onlyDiff_; }
  bool writeTableCsv(const QString& path) const;

 signals:
  void loaded();

 private:
  void display(const ComparisonData& d);
  void fillTable();
  void fillChart();
  QString dbPath_;
  ExportService* exports_;
  ComparisonData data_;
  QFutureWatcher<ComparisonData> watcher_;
  QLabel* title_;
  QComboBox* metric_;
  QCheckBox *onlyDiff_, *logY_;
  QPushButton *savePng_, *saveCsv_, *report_;
  MetricChart* chart_;
  QTableWidget* table_;
};

}  // namespace moelab::ui
