#pragma once
#include <QMap>
#include <QPointF>
#include <QVector>
#include <QWidget>
#include <cmath>
#include <vector>

#include "metrics/Metrics.h"
#include "store/RunSummary.h"

class QLabel;
class QPushButton;
class QPlainTextEdit;
class QSlider;
class QComboBox;
class QCheckBox;
class QTableWidget;
class QTabWidget;

namespace moelab {
struct RunRecord;
struct AnalysisRecord;
}  // namespace moelab

namespace moelab::ui {

class MetricChart;
class ExportService;
struct ChartImage;

// One run: status, error, config and data provenance, Stop / Resume / New from this run / Open
// folder, and live charts of its metrics (train loss with EMA smoothing, validation loss and
// perplexity, learning rate, gradient norm, tokens/s, memory) by step or wall time.
class RunPage : public QWidget {
  Q_OBJECT
 public:
  explicit RunPage(ExportService* exports, QWidget* parent = nullptr);

  static QStringList chartedKeys();  // the metric keys the page draws
  // A data-parallel run's per-rank step split (dist/rank{r}/compute_s, allreduce_s, idle_s).
  static QStringList rankKeys(int ranks);
  // 1 hides the per-rank chart; N > 1 shows it for the shown run.
  void setRanks(int ranks);
  void showRun(const RunRecord& record);
  // Evaluations, routing profiles and reassignment tables stored for the shown run, newest first.
  void showAnalyses(const std::vector<AnalysisRecord>& analyses);
  QTableWidget* analysesTable() const { return analyses_; }
  void updateSummary(const RunSummary& summary);
  void setProgress(const TrainProgress& p);
  void appendMetrics(const QString& key, const QVector<QPointF>& byStep, const QVector<QPointF>& byTime);
  qint64 runId() const { return runId_; }
  MetricChart* chart(const QString& key) const { return charts_.value(key); }
  QPushButton* stopButton() const { return stop_; }
  QPushButton* resumeButton() const { return resume_; }
  QSlider* smoothingSlider() const { return smoothing_; }
  QPushButton* exportButton() const { return export_; }
  // Every chart's content as drawn (smoothing of the train-loss chart included), for reports.
  QVector<ChartImage> chartImages() const;
  void saveChartsPng(const QString& folder, const QSize& size);

 signals:
  void stopRequested(qint64 runId);
  void resumeRequested(qint64 runId);
  void newFromRunRequested(qint64 runId);

 private:
  void setStatus(const QString& status, const QString& error);
  void refillCharts();
  qint64 runId_ = 0;
  QString checkpointDir_;
  QLabel *title_, *status_, *progress_, *error_;
  void buildExportMenu();
  ExportService* exports_;
  QPushButton *stop_, *resume_, *newFrom_, *openFolder_, *export_;
  QPlainTextEdit *config_, *provenance_;
  QTableWidget* analyses_;
  QTabWidget* details_;
  QSlider* smoothing_;
  QComboBox* xAxis_;
  QCheckBox* logY_;
  QMap<QString, MetricChart*> charts_;
  QMap<QString, QVector<QPointF>> byStep_, byTime_;
  double t0_ = NAN;  // wall time of the run's first row
};

}  // namespace moelab::ui
