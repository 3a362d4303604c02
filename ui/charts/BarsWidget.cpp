#include "charts/BarsWidget.h"

#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>
#include <cmath>

#include "charts/ColourScale.h"

namespace moelab::ui {

BarsWidget::BarsWidget(QWidget* parent) : QWidget(parent), reference_(std::nan("")) {
  setMouseTracking(true);
  hover_ = [this](int i, double v) { return QString("%1 %2: %3").arg(itemName_).arg(i).arg(formatValue(v)); };
}

void BarsWidget::setValues(const std::vector<double>& values) {
  values_ = values;
  update();
}

void BarsWidget::setReference(double level, const QString& label) {
  reference_ = level;
  referenceLabel_ = label;
  update();
}

void BarsWidget::setHighlight(int index, const QColor& colour) {
  highlight_ = index;
  highlightColour_ = colour;
  update();
}

void BarsWidget::setTitle(const QString& title) {
  title_ = title;
  update();
}

void BarsWidget::setCaption(const QString& caption) {
  caption_ = caption;
  update();
}

double BarsWidget::top() const {
  double m = values_.empty() ? 0 : *std::max_element(values_.begin(), values_.end());
  if (std::isfinite(reference_)) m = std::max(m, reference_);
  return m > 0 ? m * 1.08 : 1.0;
}

QRect BarsWidget::plotRect() const {
  const QFontMetrics fm(font());
  const int lines = (title_.isEmpty() ? 0 : 1) + (caption_.isEmpty() ? 0 : 1);
  const int left = fm.horizontalAdvance(formatValue(top())) + 8;
  return QRect(left, lines * (fm.height() + 2) + 4, width() - left - 6,
               height() - lines * (fm.height() + 2) - fm.height() - 10);
}

QRect BarsWidget::barRect(int i) const {
  const QRect p = plotRect();
  const int n = std::max<int>(1, int(values_.size()));
  const double w = double(p.width()) / n, gap = w > 6 ? w * 0.15 : 0;
  const double v = std::max(0.0, values_[size_t(i)]);
  const double h = p.height() * v / top();
  return QRectF(p.left() + i * w + gap / 2, p.bottom() - h, std::max(1.0, w - gap), h).toAlignedRect();
}

QString BarsWidget::hoverTextAt(const QPoint& pos) const {
  const QRect p = plotRect();
  if (values_.empty() || pos.x() < p.left() || pos.x() > p.right() || pos.y() < p.top() ||
      pos.y() > p.bottom())
    return {};
  const int i =
      std::min(int(values_.size()) - 1, int(double(pos.x() - p.left()) * values_.size() / p.width()));
  return hover_(i, values_[size_t(i)]);
}

void BarsWidget::paintEvent(QPaintEvent*) {
  QPainter p(this);
  const QFontMetrics fm(font());
  const QColor text = palette().color(QPalette::WindowText);
  int y = 2;
  p.setPen(text);
  if (!title_.isEmpty()) {
    QFont bold = font();
    bold.setBold(true);
    p.setFont(bold);
    p.drawText(QRect(0, y, width(), fm.height()), Qt::AlignLeft,
               fm.elidedText(title_, Qt::ElideRight, width()));
    p.setFont(font());
    y += fm.height() + 2;
  }
  if (!caption_.isEmpty())
    p.drawText(QRect(0, y, width(), fm.height()), Qt::AlignLeft,
               fm.elidedText(caption_, Qt::ElideRight, width()));
  const QRect plot = plotRect();
  if (plot.width() <= 4 || plot.height() <= 4) return;
  p.setPen(palette().color(QPalette::Mid));
  p.drawLine(plot.bottomLeft(), plot.bottomRight());
  p.drawLine(plot.bottomLeft(), plot.topLeft());
  p.setPen(text);
  p.drawText(QRect(0, plot.top() - fm.height() / 2, plot.left() - 4, fm.height()), Qt::AlignRight,
             formatValue(top()));
  p.drawText(QRect(0, plot.bottom() - fm.height() / 2, plot.left() - 4, fm.height()), Qt::AlignRight, "0");
  if (values_.empty()) {
    p.drawText(plot, Qt::AlignCenter, "no data");
    return;
  }
  const QColor bar(52, 101, 164);
  for (int i = 0; i < int(values_.size()); ++i)
    p.fillRect(barRect(i), i == highlight_ ? highlightColour_ : bar);
  // Index labels: as many as fit.
  const int n = int(values_.size());
  const int every = std::max(1, int(std::ceil(double(fm.horizontalAdvance("0000")) * n / plot.width())));
  for (int i = 0; i < n; i += every) {
    const QRect r = barRect(i);
    p.drawText(QRect(r.center().x() - 20, plot.bottom() + 2, 40, fm.height()), Qt::AlignHCenter,
               QString::number(i));
  }
  if (std::isfinite(reference_)) {
    const int ry = plot.bottom() - int(plot.height() * reference_ / top());
    p.setPen(QPen(QColor(230, 97, 0), 1.5, Qt::DashLine));
    p.drawLine(plot.left(), ry, plot.right(), ry);
    if (!referenceLabel_.isEmpty()) {
      const int w = fm.horizontalAdvance(referenceLabel_) + 6;
      p.fillRect(QRect(plot.right() - w, ry - fm.height() - 1, w, fm.height()), QColor(255, 255, 255, 200));
      p.drawText(QRect(plot.right() - w, ry - fm.height() - 1, w, fm.height()), Qt::AlignCenter,
                 referenceLabel_);
    }
  }
}

void BarsWidget::mouseMoveEvent(QMouseEvent* e) {
  const QString t = hoverTextAt(e->position().toPoint());
  if (t.isEmpty())
    QToolTip::hideText();
  else
    QToolTip::showText(e->globalPosition().toPoint(), t, this);
}

}  // namespace moelab::ui
