#pragma once
#include <QColor>
#include <QString>
#include <QWidget>

namespace moelab::ui {

// Maps values to colours. Sequential (dark blue -> teal -> yellow, perceptually ordered and
// readable for colour-blind viewers) from lo to hi, or diverging (blue - white - red) symmetric
// around zero for signed values such as "change since the previous evaluation".
struct ColourScale {
  double lo = 0, hi = 1;
  bool diverging = false;

  QRgb colour(double v) const;
  // Sequential over [min, max] of `values` (a flat range widens to avoid dividing by zero);
  // diverging over [-m, m] with m the largest magnitude.
  static ColourScale spanning(double minValue, double maxValue, bool diverging);
};

// The i-th of ten distinct qualitative colours (cycling after ten): series of one chart stay
// apart where Qt Charts' default theme repeats after five (run #0 and #5 both blue).
QColor seriesColour(int i);

// A vertical colour bar with the scale's range printed at its ends and a caption.
class ColourBar : public QWidget {
  Q_OBJECT
 public:
  explicit ColourBar(QWidget* parent = nullptr);
  void setScale(const ColourScale& scale, const QString& caption);
  const ColourScale& scale() const { return scale_; }
  QSize sizeHint() const override { return {110, 240}; }

 protected:
  void paintEvent(QPaintEvent*) override;

 private:
  ColourScale scale_;
  QString caption_;
};

// Compact number for labels and hover text: 0.734, 1.2e-05, 3.4e+06.
QString formatValue(double v);

}  // namespace moelab::ui
