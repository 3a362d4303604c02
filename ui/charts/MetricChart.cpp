#include "charts/MetricChart.h"

#include <QChart>
#include <QContextMenuEvent>
#include <QDir>
#include <QFileDialog>
#include <QKeyEvent>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QMenu>
#include <QMessageBox>
#include <QMouseEvent>
#include <QToolButton>
#include <QToolTip>
#include <QValueAxis>
#include <QWheelEvent>
#include <cmath>
#include <limits>

#include "charts/ColourScale.h"
#include "charts/Downsampler.h"
#include "charts/PngExportDialog.h"

namespace moelab::ui {
namespace {
// Ticks at 1, 2, 2.5 or 5 × 10^k, at most 6 of them, and a range that ends on ticks: unlike
// QValueAxis::applyNiceNumbers, a 1..60 step axis becomes 0..60 (not 0..100).
void setNiceRange(QValueAxis* axis, double lo, double hi, bool fromZero) {
  if (!(hi > lo)) hi = lo + 1;
  const double raw = (hi - lo) / 5.0, magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double interval = magnitude * 10;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (magnitude * m >= raw) {
      interval = magnitude * m;
      break;
    }
  double first = std::floor(lo / interval) * interval, last = std::ceil(hi / interval) * interval;
  if (fromZero && first > 0 && first <= interval) first = 0;
  axis->setTickType(QValueAxis::TicksDynamic);
  axis->setTickAnchor(first);
  axis->setTickInterval(interval);
  axis->setRange(first, last);
  // Whole numbers as whole numbers; small and large values with as many digits as they need.
  axis->setLabelFormat(interval >= 1 && std::abs(last) < 1e7 ? "%.0f" : "%.6g");
}
}  // namespace

MetricChart::MetricChart(const QString& title, QWidget* parent) : QChartView(new QChart, parent) {
  chart()->setTitle(title);
  chart()->legend()->setAlignment(Qt::AlignBottom);
  chart()->setMargins(QMargins(4, 4, 4, 4));
  setRenderHint(QPainter::Antialiasing);
  setRubberBand(QChartView::RectangleRubberBand);
  setFocusPolicy(Qt::StrongFocus);  // arrow keys pan
  setMinimumSize(320, 220);
  xAxis_ = new QValueAxis;
  xAxis_->setTitleText("step");
  xAxis_->setLabelFormat("%.0f");
  xAxis_->setTruncateLabels(false);
  chart()->addAxis(xAxis_, Qt::AlignBottom);
  rebuildYAxis();
  pngButton_ = new QToolButton(this);
  pngButton_->setText("PNG");
  pngButton_->setToolTip("Save this chart as a PNG image (size selectable)");
  pngButton_->setAutoRaise(true);
  pngButton_->setStyleSheet("font-size: 10px; color: #555;");
  pngButton_->adjustSize();
  connect(pngButton_, &QToolButton::clicked, this, &MetricChart::exportPngInteractively);
  redrawTimer_.setSingleShot(true);
  redrawTimer_.setInterval(40);  // at most 25 redraws per second
  connect(&redrawTimer_, &QTimer::timeout, this, &MetricChart::redraw);
}

void MetricChart::appendPoints(const QString& series, const QVector<QPointF>& points) {
  if (points.isEmpty()) return;
  data_[series] += points;
  scheduleRedraw();
}

void MetricChart::clearSeries() {
  data_.clear();
  for (auto* s : raw_) chart()->removeSeries(s), delete s;
  for (auto* s : smooth_) chart()->removeSeries(s), delete s;
  raw_.clear();
  smooth_.clear();
  autoRange_ = true;
  scheduleRedraw();
}

void MetricChart::setSmoothing(double weight) {
  smoothing_ = std::clamp(weight, 0.0, 0.999);
  scheduleRedraw();
}

void MetricChart::setLogY(bool on) {
  if (on == logY_) return;
  logY_ = on;
  rebuildYAxis();
  scheduleRedraw();
}

void MetricChart::setXTitle(const QString& title) {
  xAxis_->setTitleText(title);
}

void MetricChart::resetZoom() {
  chart()->zoomReset();
  autoRange_ = true;
  redraw();
}

void MetricChart::redrawNow() {
  redrawTimer_.stop();
  redraw();
}

void MetricChart::scheduleRedraw() {
  if (!redrawTimer_.isActive()) redrawTimer_.start();
}

void MetricChart::rebuildYAxis() {
  if (yAxis_) {
    for (auto* s : chart()->series()) s->detachAxis(yAxis_);
    chart()->removeAxis(yAxis_);
    delete yAxis_;
  }
  if (logY_) {
    auto* axis = new QLogValueAxis;
    axis->setLabelFormat("%.4g");
    axis->setBase(10);
    yAxis_ = axis;
  } else {
    auto* axis = new QValueAxis;
    axis->setLabelFormat("%.4g");
    yAxis_ = axis;
  }
  // Qt Charts sometimes keeps a stale label width after a run's curve replaces another's and would
  // elide every tick to "..." (seen in the screenshot tour): a number is drawn whole or not at all.
  yAxis_->setTruncateLabels(false);
  chart()->addAxis(yAxis_, Qt::AlignLeft);
  for (auto* s : chart()->series()) s->attachAxis(yAxis_);
}

QLineSeries* MetricChart::seriesFor(const QString& name, bool smoothed) {
  auto& map = smoothed ? smooth_ : raw_;
  if (auto* s = map.value(name)) return s;
  auto* s = new QLineSeries;
  s->setName(smoothed ? name + " (smoothed)" : name);
  chart()->addSeries(s);
  s->attachAxis(xAxis_);
  s->attachAxis(yAxis_);
  connect(s, &QLineSeries::hovered, this, [this, s](const QPointF& p, bool state) {
    if (state)
      QToolTip::showText(QCursor::pos(),
                         QString("%1\nx %2\ny %3").arg(s->name()).arg(p.x()).arg(p.y(), 0, 'g', 5));
  });
  if (!smoothed) {
    // The raw curve fades behind its smoothed line, in the same colour.
    auto* sm = smooth_.value(name);
    s->setColor(sm ? sm->color() : seriesColour(int(raw_.size())));
  }
  map[name] = s;
  return s;
}

void MetricChart::redraw() {
  ++redraws_;
  drawn_ = 0;
  double xMin = std::numeric_limits<double>::infinity(), xMax = -xMin, yMin = xMin, yMax = -xMin;
  for (const auto& pts : data_)
    for (const auto& p : pts) {
      if (!std::isfinite(p.y()) || (logY_ && p.y() <= 0)) continue;
      xMin = std::min(xMin, p.x()), xMax = std::max(xMax, p.x());
      yMin = std::min(yMin, p.y()), yMax = std::max(yMax, p.y());
    }
  if (!std::isfinite(xMin)) return;
  if (autoRange_) {
    const double xPad = xMax > xMin ? 0 : 1,
                 yPad = yMax > yMin ? (yMax - yMin) * 0.05 : std::max(1e-3, std::abs(yMax) * 0.05);
    setNiceRange(xAxis_, xMin - xPad, xMax + xPad, /*fromZero=*/xMin >= 0);
    if (logY_) {
      yAxis_->setRange(yMin / 1.1, yMax * 1.1);
    } else {  // no negative axis for a quantity that never is (learning rate, loss, memory)
      setNiceRange(static_cast<QValueAxis*>(yAxis_), yMin >= 0 ? std::max(0.0, yMin - yPad) : yMin - yPad,
                   yMax + yPad, false);
    }
  }
  const int columns = std::max(50, int(chart()->plotArea().width()));
  for (auto it = data_.cbegin(); it != data_.cend(); ++it) {
    const bool smoothed = smoothing_ > 0;
    QLineSeries* raw = seriesFor(it.key(), false);
    auto reduced = downsampleMinMax(it.value(), xMin, xMax, columns);
    raw->replace(reduced);  // one replace per series, never per-point append
    drawn_ += int(reduced.size());
    QColor c = raw->color();
    if (smoothed) {
      QLineSeries* sm = seriesFor(it.key(), true);
      sm->setColor(c);
      auto s = downsampleMinMax(smoothEma(it.value(), smoothing_), xMin, xMax, columns);
      sm->replace(s);
      drawn_ += int(s.size());
      c.setAlpha(70);
      raw->setColor(c);
    } else if (auto* sm = smooth_.take(it.key())) {
      chart()->removeSeries(sm);
      delete sm;
      c.setAlpha(255);
      raw->setColor(c);
    }
  }
  updateLegend();
}

void MetricChart::updateLegend() {
  // A legend says which curve is which: with one run and no smoothing there is nothing to tell.
  chart()->legend()->setVisible(raw_.size() > 1 || !smooth_.isEmpty());
}

bool MetricChart::savePng(const QString& path, const QSize& size) {
  redraw();
  const QSize old = this->size();
  resize(size);
  redraw();
  QPixmap pm(size);
  pm.fill(Qt::white);
  QPainter painter(&pm);
  painter.setRenderHint(QPainter::Antialiasing);
  const bool buttonShown = pngButton_->isVisible();
  pngButton_->hide();  // the image shows the chart, not its controls
  render(&painter, QRectF(QPointF(0, 0), QSizeF(size)), rect());
  painter.end();
  pngButton_->setVisible(buttonShown);
  resize(old);
  return pm.save(path, "PNG");
}

void MetricChart::wheelEvent(QWheelEvent* e) {
  autoRange_ = false;
  chart()->zoom(e->angleDelta().y() > 0 ? 1.25 : 0.8);
  e->accept();
}

void MetricChart::mousePressEvent(QMouseEvent* e) {
  // Pan with the middle button, or Shift and the left button (the plain left drag is the zoom band).
  if (e->button() == Qt::MiddleButton ||
      (e->button() == Qt::LeftButton && e->modifiers() & Qt::ShiftModifier)) {
    panning_ = true;
    panFrom_ = e->pos();
    autoRange_ = false;
    e->accept();
    return;
  }
  QChartView::mousePressEvent(e);
}

void MetricChart::mouseMoveEvent(QMouseEvent* e) {
  if (panning_) {
    const QPoint d = e->pos() - panFrom_;
    chart()->scroll(-d.x(), d.y());
    panFrom_ = e->pos();
    e->accept();
    return;
  }
  QChartView::mouseMoveEvent(e);
}

void MetricChart::keyPressEvent(QKeyEvent* e) {
  const qreal stepX = chart()->plotArea().width() / 10, stepY = chart()->plotArea().height() / 10;
  switch (e->key()) {
    case Qt::Key_Left:
      autoRange_ = false, chart()->scroll(-stepX, 0);
      break;
    case Qt::Key_Right:
      autoRange_ = false, chart()->scroll(stepX, 0);
      break;
    case Qt::Key_Up:
      autoRange_ = false, chart()->scroll(0, stepY);
      break;
    case Qt::Key_Down:
      autoRange_ = false, chart()->scroll(0, -stepY);
      break;
    case Qt::Key_Home:
      resetZoom();
      break;
    default:
      QChartView::keyPressEvent(e);
  }
}

void MetricChart::mouseReleaseEvent(QMouseEvent* e) {
  if (panning_) {
    panning_ = false;
    e->accept();
    return;
  }
  if (e->button() == Qt::LeftButton) autoRange_ = false;  // a rubber-band zoom
  if (e->button() == Qt::RightButton) return;             // the context menu, not QChartView's zoom-out
  QChartView::mouseReleaseEvent(e);
}

void MetricChart::contextMenuEvent(QContextMenuEvent* e) {
  QMenu menu(this);
  menu.addAction("Reset zoom", this, &MetricChart::resetZoom);
  auto* log = menu.addAction("Log scale Y");
  log->setCheckable(true);
  log->setChecked(logY_);
  connect(log, &QAction::toggled, this, &MetricChart::setLogY);
  menu.addAction("Save as PNG...", this, &MetricChart::exportPngInteractively);
  menu.exec(e->globalPos());
}

}  // namespace moelab::ui

namespace moelab::ui {

QString MetricChart::fileSlug() const {
  QString slug = chart()->title().toLower();
  for (QChar& c : slug)
    if (!c.isLetterOrNumber()) c = '-';
  while (slug.contains("--")) slug.replace("--", "-");
  return slug.isEmpty() ? QString("chart") : slug;
}

void MetricChart::exportPngInteractively() {
  PngExportDialog dialog(QDir::home().filePath(fileSlug() + ".png"), this);
  if (dialog.exec() != QDialog::Accepted || dialog.path().isEmpty()) return;
  if (!savePng(dialog.path(), dialog.size()))
    QMessageBox::warning(this, "Save chart",
                         "Cannot write " + dialog.path() + ": choose a folder you can write to.");
}

void MetricChart::resizeEvent(QResizeEvent* e) {
  QChartView::resizeEvent(e);
  pngButton_->move(width() - pngButton_->width() - 6, 6);
}

}  // namespace moelab::ui
