#pragma once
#include <QImage>
#include <QString>
#include <QWidget>
#include <functional>
#include <vector>

#include "charts/ColourScale.h"

namespace moelab::ui {

// A matrix drawn as coloured cells (Qt Charts has no heatmap): one QImage pixel per cell, scaled
// without smoothing so cells stay crisp. Title above, optional axis captions, optional outlines
// every `blockSize` cells (node blocks of a GPU traffic matrix), hover text as a tooltip and as
// the hovered() signal.
class HeatmapWidget : public QWidget {
  Q_OBJECT
 public:
  using HoverFormat = std::function<QString(int row, int col, double value)>;
  explicit HeatmapWidget(QWidget* parent = nullptr);

  void setMatrix(const std::vector<std::vector<double>>& m);
  void setScale(const ColourScale& scale);
  void setTitle(const QString& title);
  void setAxisCaptions(const QString& rows, const QString& cols);
  void setBlockSize(int cells);  // 0 = no outlines
  void setHoverFormat(HoverFormat f) { hover_ = std::move(f); }

  const std::vector<std::vector<double>>& matrix() const { return m_; }
  const ColourScale& scale() const { return scale_; }
  int rows() const { return int(m_.size()); }
  int cols() const { return m_.empty() ? 0 : int(m_.front().size()); }
  QRgb cellColour(int row, int col) const { return image_.pixel(col, row); }
  QRect cellRect(int row, int col) const;  // in widget coordinates
  QString hoverTextAt(const QPoint& pos) const;
  QSize sizeHint() const override { return {220, 220}; }
  QSize minimumSizeHint() const override { return {90, 90}; }

 signals:
  void hovered(const QString& text);

 protected:
  void paintEvent(QPaintEvent*) override;
  void mouseMoveEvent(QMouseEvent* e) override;

 private:
  QRect plotRect() const;
  void rebuildImage();
  std::vector<std::vector<double>> m_;
  ColourScale scale_;
  QImage image_;
  QString title_, rowCaption_, colCaption_;
  int blockSize_ = 0;
  HoverFormat hover_;
};

}  // namespace moelab::ui
