#pragma once
#include <QChartView>
#include <QMap>
#include <QPointF>
#include <QTimer>
#include <QVector>

class QLineSeries;
class QValueAxis;
class QLogValueAxis;
class QAbstractAxis;
class QToolButton;

namespace moelab::ui {

// A live line chart of one or more named series (e.g. train/loss of run 3). Points are appended
// as they arrive; redraws are coalesced (at most one per 40 ms: 25 per second however fast data
// comes) and draw a per-pixel-column min/max reduction of the full series with one replace() per
// series. Optional debiased-EMA smoothing drawn over the raw curve, log-scale Y, zoom (wheel and
// rubber band), pan (middle- or Shift-drag, arrow keys), reset (Home, menu), hover values, PNG.
class MetricChart : public QChartView {
  Q_OBJECT
 public:
  explicit MetricChart(const QString& title, QWidget* parent = nullptr);

  void appendPoints(const QString& series, const QVector<QPointF>& points);
  void clearSeries();
  void setSmoothing(double weight);  // 0 = off; 0..0.999
  void setLogY(bool on);
  void setXTitle(const QString& title);
  void resetZoom();
  void redrawNow();  // at once, not coalesced (benchmarks, exports)
  // Renders at `size` (works offscreen); false when the file cannot be written.
  bool savePng(const QString& path, const QSize& size);
  void exportPngInteractively();  // PngExportDialog, then savePng
  QString fileSlug() const;       // the title as a file name ("train-loss")
  QString title() const { return chart()->title(); }
  QStringList seriesNames() const { return data_.keys(); }
  QVector<QPointF> points(const QString& series) const { return data_.value(series); }

  int redrawCount() const { return redraws_; }
  int pointCount(const QString& series) const { return int(data_.value(series).size()); }
  // Points handed to the chart in the last redraw, summed over series (tests: downsampled size).
  int drawnPointCount() const { return drawn_; }

 protected:
  void wheelEvent(QWheelEvent* e) override;
  void mousePressEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void keyPressEvent(QKeyEvent* e) override;
  void mouseReleaseEvent(QMouseEvent* e) override;
  void contextMenuEvent(QContextMenuEvent* e) override;
  void resizeEvent(QResizeEvent* e) override;

 private:
  void scheduleRedraw();
  void redraw();
  void rebuildYAxis();
  void updateLegend();
  QLineSeries* seriesFor(const QString& name, bool smoothed);

  QMap<QString, QVector<QPointF>> data_;
  QMap<QString, QLineSeries*> raw_, smooth_;
  QValueAxis* xAxis_;
  QAbstractAxis* yAxis_ = nullptr;
  QTimer redrawTimer_;
  QToolButton* pngButton_;
  QPoint panFrom_;
  bool panning_ = false;
  double smoothing_ = 0.0;
  bool logY_ = false, autoRange_ = true;
  int redraws_ = 0, drawn_ = 0;
};

}  // namespace moelab::ui
