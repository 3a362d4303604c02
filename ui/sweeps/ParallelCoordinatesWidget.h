#pragma once
#include <QMap>
#include <QSet>
#include <QStringList>
#include <QVector>
#include <QWidget>
#include <utility>

#include "charts/ColourScale.h"

namespace moelab::ui {

// Parallel coordinates: one vertical axis per swept parameter plus the metric, one polyline per
// run coloured by its metric (the best run drawn thickest). Numeric axes run min -> max (log
// where the parameter is log-scaled); text values are evenly spaced categories. Dragging along an
// axis brushes a range; runs outside any brush turn grey and brushChanged() names the runs that
// pass every brush (a click on an axis clears its brush).
class ParallelCoordinatesWidget : public QWidget {
  Q_OBJECT
 public:
  struct Axis {
    QString name;
    bool log = false;
    QStringList categories;  // non-empty: a categorical axis (values are category indices)
  };
  struct Line {
    int point = 0;           // the sweep point it draws
    QVector<double> values;  // one per axis (category index for categorical axes)
  };

  explicit ParallelCoordinatesWidget(QWidget* parent = nullptr);
  // The last axis is the metric, which colours the lines; bestPoint is drawn thickest.
  void setData(const QVector<Axis>& axes, const QVector<Line>& lines, int bestPoint, bool minimize);
  // Brush axis `axis` to [lo, hi] in its own units; clearBrush removes it.
  void setBrush(int axis, double lo, double hi);
  void clearBrush(int axis);
  void clearBrushes();
  QSet<int> passing() const;
  bool brushActive() const { return !brushes_.isEmpty(); }
  int axisCount() const { return int(axes_.size()); }
  // Where an axis and a value are drawn (tests drive brushing with the mouse through these).
  int axisX(int axis) const;
  int valueY(int axis, double value) const;
  bool savePng(const QString& path, const QSize& size);
  QSize sizeHint() const override { return {720, 360}; }

 signals:
  void brushChanged(const QSet<int>& passing, bool active);

 protected:
  void paintEvent(QPaintEvent*) override;
  void mousePressEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void mouseReleaseEvent(QMouseEvent* e) override;

 private:
  double normalised(int axis, double value) const;  // 0 bottom .. 1 top
  double fromY(int axis, int y) const;
  QRect plotRect() const;
  void paintInto(QPainter& p, const QRect& area);
  QVector<Axis> axes_;
  QVector<Line> lines_;
  QVector<std::pair<double, double>> range_;      // per axis, in (log) units
  QMap<int, std::pair<double, double>> brushes_;  // axis -> [lo, hi] in value units
  ColourScale scale_;
  int best_ = -1;
  bool minimize_ = true;
  int dragAxis_ = -1, dragFrom_ = 0, dragTo_ = 0;
};

}  // namespace moelab::ui
