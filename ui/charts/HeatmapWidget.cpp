#include "charts/HeatmapWidget.h"

#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>
#include <cmath>

namespace moelab::ui {

HeatmapWidget::HeatmapWidget(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  hover_ = [](int r, int c, double v) {
    return QString("row %1, column %2: %3").arg(r).arg(c).arg(formatValue(v));
  };
}

void HeatmapWidget::setMatrix(const std::vector<std::vector<double>>& m) {
  m_ = m;
  rebuildImage();
}

void HeatmapWidget::setScale(const ColourScale& scale) {
  scale_ = scale;
  rebuildImage();
}

void HeatmapWidget::setTitle(const QString& title) {
  title_ = title;
  update();
}

void HeatmapWidget::setAxisCaptions(const QString& rows, const QString& cols) {
  rowCaption_ = rows;
  colCaption_ = cols;
  update();
}

void HeatmapWidget::setBlockSize(int cells) {
  blockSize_ = cells;
  update();
}

void HeatmapWidget::rebuildImage() {
  const int r = rows(), c = cols();
  image_ = QImage(std::max(1, c), std::max(1, r), QImage::Format_RGB32);
  image_.fill(palette().color(QPalette::Window));
  for (int i = 0; i < r; ++i) {
    auto* line = reinterpret_cast<QRgb*>(image_.scanLine(i));
    for (int j = 0; j < c && j < int(m_[size_t(i)].size()); ++j)
      line[j] = scale_.colour(m_[size_t(i)][size_t(j)]);
  }
  update();
}

QRect HeatmapWidget::plotRect() const {
  const QFontMetrics fm(font());
  const int top = title_.isEmpty() ? 2 : fm.height() + 4;
  // Captions, plus a strip for cell indices.
  const int left = (rowCaption_.isEmpty() ? 2 : fm.height() + 4) + fm.horizontalAdvance("000") + 2;
  const int bottom = (colCaption_.isEmpty() ? 2 : fm.height() + 4) + fm.height();
  QRect area(left, top, width() - left - 2, height() - top - bottom);
  if (rows() == 0 || cols() == 0 || area.width() <= 0 || area.height() <= 0) return area;
  // Square cells when the matrix is square (adjacency); otherwise fill the area.
  if (rows() == cols()) {
    const int side = std::min(area.width(), area.height());
    return QRect(area.left() + (area.width() - side) / 2, area.top(), side, side);
  }
  return area;
}

QRect HeatmapWidget::cellRect(int row, int col) const {
  const QRect p = plotRect();
  const double w = double(p.width()) / std::max(1, cols()), h = double(p.height()) / std::max(1, rows());
  return QRectF(p.left() + col * w, p.top() + row * h, w, h).toAlignedRect();
}

QString HeatmapWidget::hoverTextAt(const QPoint& pos) const {
  const QRect p = plotRect();
  if (!p.contains(pos) || rows() == 0 || cols() == 0) return {};
  const int col = std::min(cols() - 1, int(double(pos.x() - p.left()) * cols() / p.width()));
  const int row = std::min(rows() - 1, int(double(pos.y() - p.top()) * rows() / p.height()));
  if (col >= int(m_[size_t(row)].size())) return {};
  return hover_(row, col, m_[size_t(row)][size_t(col)]);
}

void HeatmapWidget::paintEvent(QPaintEvent*) {
  QPainter p(this);
  const QFontMetrics fm(font());
  p.setPen(palette().color(QPalette::WindowText));
  if (!title_.isEmpty())
    p.drawText(QRect(0, 0, width(), fm.height() + 2), Qt::AlignHCenter | Qt::AlignVCenter,
               fm.elidedText(title_, Qt::ElideRight, width()));
  const QRect plot = plotRect();
  if (rows() == 0 || cols() == 0) {
    p.drawText(plot, Qt::AlignCenter | Qt::TextWordWrap, "no data");
    return;
  }
  p.drawImage(plot, image_);  // scaled without smoothing: crisp cells
  if (blockSize_ > 0 && blockSize_ < std::max(rows(), cols())) {
    p.setPen(QPen(Qt::white, 1.5));
    for (int b = blockSize_; b < cols(); b += blockSize_) {
      const int x = cellRect(0, b).left();
      p.drawLine(x, plot.top(), x, plot.bottom());
    }
    for (int b = blockSize_; b < rows(); b += blockSize_) {
      const int y = cellRect(b, 0).top();
      p.drawLine(plot.left(), y, plot.right(), y);
    }
  }
  p.setPen(palette().color(QPalette::Mid));
  p.drawRect(plot.adjusted(0, 0, -1, -1));
  p.setPen(palette().color(QPalette::WindowText));
  // Indices: every k-th so that labels do not collide.
  const double cellW = double(plot.width()) / cols(), cellH = double(plot.height()) / rows();
  const int everyCol = std::max(1, int(std::ceil((fm.horizontalAdvance("000") + 2) / cellW)));
  const int everyRow = std::max(1, int(std::ceil((fm.height() + 1) / cellH)));
  for (int c = 0; c < cols(); c += everyCol) {
    const QRect r = cellRect(0, c);
    p.drawText(QRect(r.center().x() - 20, plot.bottom() + 1, 40, fm.height()), Qt::AlignHCenter,
               QString::number(c));
  }
  const int digits = fm.horizontalAdvance("000");
  for (int r = 0; r < rows(); r += everyRow) {
    const QRect cell = cellRect(r, 0);
    p.drawText(QRect(plot.left() - digits - 4, cell.center().y() - fm.height() / 2, digits, fm.height()),
               Qt::AlignRight | Qt::AlignVCenter, QString::number(r));
  }
  if (!colCaption_.isEmpty())
    p.drawText(QRect(plot.left(), plot.bottom() + fm.height() + 1, plot.width(), fm.height() + 2),
               Qt::AlignCenter, colCaption_);
  if (!rowCaption_.isEmpty()) {
    p.save();
    p.translate(0, plot.bottom());
    p.rotate(-90);
    p.drawText(QRect(0, 0, plot.height(), fm.height() + 2), Qt::AlignCenter, rowCaption_);
    p.restore();
  }
}

void HeatmapWidget::mouseMoveEvent(QMouseEvent* e) {
  const QString text = hoverTextAt(e->position().toPoint());
  if (text.isEmpty()) {
    QToolTip::hideText();
    return;
  }
  QToolTip::showText(e->globalPosition().toPoint(), text, this);
  emit hovered(text);
}

}  // namespace moelab::ui
