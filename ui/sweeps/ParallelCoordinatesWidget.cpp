#include "sweeps/ParallelCoordinatesWidget.h"

#include <QImage>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <cmath>

namespace moelab::ui {
namespace {
const int kMarginX = 60, kTop = 36, kBottom = 28;
}

ParallelCoordinatesWidget::ParallelCoordinatesWidget(QWidget* parent) : QWidget(parent) {
  setMinimumSize(420, 260);
  setMouseTracking(false);
}

void ParallelCoordinatesWidget::setData(const QVector<Axis>& axes, const QVector<Line>& lines, int bestPoint,
                                        bool minimize) {
  axes_ = axes;
  lines_ = lines;
  best_ = bestPoint;
  minimize_ = minimize;
  brushes_.clear();
  range_.clear();
  for (int a = 0; a < axes_.size(); ++a) {
    double lo = INFINITY, hi = -INFINITY;
    for (const auto& l : lines_) {
      double v = l.values.value(a, NAN);
      if (!std::isfinite(v) || (axes_[a].log && v <= 0)) continue;
      if (axes_[a].log) v = std::log10(v);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    if (!axes_[a].categories.isEmpty()) {
      lo = 0;
      hi = std::max(1.0, double(axes_[a].categories.size() - 1));
    }
    if (!std::isfinite(lo)) lo = 0, hi = 1;
    if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
    range_.push_back({lo, hi});
  }
  if (!axes_.isEmpty()) {
    const auto [lo, hi] = range_.back();
    // The metric colours the lines: dark for the best end.
    scale_ = minimize ? ColourScale{lo, hi, false} : ColourScale{hi, lo, false};
  }
  update();
  emit brushChanged(passing(), false);
}

QRect ParallelCoordinatesWidget::plotRect() const {
  return rect().adjusted(kMarginX, kTop, -kMarginX, -kBottom);
}

int ParallelCoordinatesWidget::axisX(int axis) const {
  const QRect r = plotRect();
  if (axes_.size() <= 1) return r.center().x();
  return r.left() + int(std::lround(double(r.width()) * axis / double(axes_.size() - 1)));
}

double ParallelCoordinatesWidget::normalised(int axis, double value) const {
  if (axes_[axis].log) value = value > 0 ? std::log10(value) : NAN;
  const auto [lo, hi] = range_[axis];
  return (value - lo) / (hi - lo);
}

int ParallelCoordinatesWidget::valueY(int axis, double value) const {
  const QRect r = plotRect();
  return r.bottom() - int(std::lround(normalised(axis, value) * r.height()));
}

double ParallelCoordinatesWidget::fromY(int axis, int y) const {
  const QRect r = plotRect();
  const double t = double(r.bottom() - y) / double(std::max(1, r.height()));
  const auto [lo, hi] = range_[axis];
  const double v = lo + t * (hi - lo);
  return axes_[axis].log ? std::pow(10.0, v) : v;
}

void ParallelCoordinatesWidget::setBrush(int axis, double lo, double hi) {
  if (axis < 0 || axis >= axes_.size()) return;
  brushes_[axis] = {std::min(lo, hi), std::max(lo, hi)};
  update();
  emit brushChanged(passing(), brushActive());
}

void ParallelCoordinatesWidget::clearBrush(int axis) {
  if (brushes_.remove(axis)) {
    update();
    emit brushChanged(passing(), brushActive());
  }
}

void ParallelCoordinatesWidget::clearBrushes() {
  brushes_.clear();
  update();
  emit brushChanged(passing(), false);
}

QSet<int> ParallelCoordinatesWidget::passing() const {
  QSet<int> out;
  for (const auto& l : lines_) {
    bool ok = true;
    for (auto it = brushes_.begin(); it != brushes_.end() && ok; ++it) {
      const double v = l.values.value(it.key(), NAN);
      ok = std::isfinite(v) && v >= it.value().first && v <= it.value().second;
    }
    if (ok) out.insert(l.point);
  }
  return out;
}

void ParallelCoordinatesWidget::mousePressEvent(QMouseEvent* e) {
  dragAxis_ = -1;
  for (int a = 0; a < axes_.size(); ++a)
    if (std::abs(e->position().x() - axisX(a)) <= 14) dragAxis_ = a;
  dragFrom_ = dragTo_ = int(e->position().y());
}

void ParallelCoordinatesWidget::mouseMoveEvent(QMouseEvent* e) {
  if (dragAxis_ < 0) return;
  dragTo_ = int(e->position().y());
  update();
}

void ParallelCoordinatesWidget::mouseReleaseEvent(QMouseEvent* e) {
  if (dragAxis_ < 0) return;
  const int axis = dragAxis_;
  dragAxis_ = -1;
  dragTo_ = int(e->position().y());
  if (std::abs(dragTo_ - dragFrom_) < 4) {
    clearBrush(axis);
    return;
  }
  setBrush(axis, fromY(axis, dragFrom_), fromY(axis, dragTo_));
}

void ParallelCoordinatesWidget::paintEvent(QPaintEvent*) {
  QPainter p(this);
  paintInto(p, rect());
}

bool ParallelCoordinatesWidget::savePng(const QString& path, const QSize& size) {
  const QSize old = this->size();
  resize(size);
  QImage img(size, QImage::Format_ARGB32);
  QPainter p(&img);
  paintInto(p, QRect(QPoint(0, 0), size));
  p.end();
  resize(old);
  return img.save(path, "PNG");
}

void ParallelCoordinatesWidget::paintInto(QPainter& p, const QRect& area) {
  p.fillRect(area, Qt::white);
  p.setRenderHint(QPainter::Antialiasing);
  if (axes_.isEmpty() || lines_.isEmpty()) {
    p.setPen(Qt::darkGray);
    p.drawText(area, Qt::AlignCenter,
               "No finished evaluations yet: the sweep's runs appear here as they evaluate.");
    return;
  }
  const QSet<int> pass = passing();
  // Greyed lines first, then coloured ones, the best last (on top).
  auto drawLine = [&](const Line& l, QColor c, double width) {
    QPainterPath path;
    bool started = false;
    for (int a = 0; a < axes_.size(); ++a) {
      const double v = l.values.value(a, NAN);
      if (!std::isfinite(normalised(a, v))) {
        started = false;
        continue;
      }
      const QPointF pt(axisX(a), valueY(a, v));
      if (started)
        path.lineTo(pt);
      else
        path.moveTo(pt);
      started = true;
    }
    p.setPen(QPen(c, width));
    p.drawPath(path);
  };
  for (const auto& l : lines_)
    if (!pass.contains(l.point)) drawLine(l, QColor(210, 210, 210), 1.0);
  for (const auto& l : lines_)
    if (pass.contains(l.point) && l.point != best_)
      drawLine(l, QColor(scale_.colour(l.values.value(axes_.size() - 1, NAN))), 1.6);
  for (const auto& l : lines_)
    if (pass.contains(l.point) && l.point == best_) drawLine(l, QColor(200, 30, 30), 3.2);

  QFont small = p.font();
  small.setPointSizeF(std::max(7.0, small.pointSizeF() - 1));
  for (int a = 0; a < axes_.size(); ++a) {
    const int x = axisX(a);
    const QRect r = plotRect();
    p.setPen(QPen(QColor(60, 60, 60), 1.5));
    p.drawLine(x, r.top(), x, r.bottom());
    p.setFont(p.font());
    const QRect title(x - 80, 4, 160, kTop - 14);
    p.drawText(title, Qt::AlignHCenter | Qt::AlignBottom, axes_[a].name + (axes_[a].log ? " (log)" : ""));
    p.setFont(small);
    if (!axes_[a].categories.isEmpty()) {
      for (int c = 0; c < axes_[a].categories.size(); ++c)
        p.drawText(QRect(x + 4, valueY(a, c) - 8, 120, 16), Qt::AlignLeft | Qt::AlignVCenter,
                   axes_[a].categories[c]);
    } else {
      const auto [lo, hi] = range_[a];
      auto label = [&](double v) { return formatValue(axes_[a].log ? std::pow(10.0, v) : v); };
      p.drawText(QRect(x - 58, r.bottom() - 8, 54, 16), Qt::AlignRight | Qt::AlignVCenter, label(lo));
      p.drawText(QRect(x - 58, r.top() - 8, 54, 16), Qt::AlignRight | Qt::AlignVCenter, label(hi));
    }
    auto drawBrush = [&](int y0, int y1) {
      p.setPen(QPen(QColor(30, 90, 200), 1));
      p.setBrush(QColor(30, 90, 200, 50));
      p.drawRect(QRect(QPoint(x - 8, std::min(y0, y1)), QPoint(x + 8, std::max(y0, y1))));
      p.setBrush(Qt::NoBrush);
    };
    if (brushes_.contains(a)) drawBrush(valueY(a, brushes_[a].first), valueY(a, brushes_[a].second));
    if (dragAxis_ == a) drawBrush(dragFrom_, dragTo_);
  }
  p.setFont(small);
  p.setPen(Qt::darkGray);
  p.drawText(area.adjusted(8, 0, -8, -4), Qt::AlignBottom | Qt::AlignLeft,
             "Drag along an axis to brush a range; click an axis to clear its brush. Best run in red.");
}

}  // namespace moelab::ui
