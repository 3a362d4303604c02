#include "charts/ColourScale.h"

#include <QPainter>
#include <algorithm>
#include <cmath>

namespace moelab::ui {
namespace {

struct Stop {
  double at;
  int r, g, b;
};

// Sampled from a viridis-like ramp: dark blue-violet, blue, teal, green, yellow.
const Stop kSequential[] = {
    {0.00, 68, 1, 84}, {0.25, 59, 82, 139}, {0.50, 33, 145, 140}, {0.75, 94, 201, 98}, {1.00, 253, 231, 37}};
const Stop kDiverging[] = {{0.0, 33, 102, 172}, {0.5, 247, 247, 247}, {1.0, 178, 24, 43}};

template <size_t N>
QRgb interpolate(const Stop (&stops)[N], double t) {
  t = std::clamp(t, 0.0, 1.0);
  size_t i = 1;
  while (i < N - 1 && t > stops[i].at) ++i;
  const Stop &a = stops[i - 1], &b = stops[i];
  const double f = (t - a.at) / (b.at - a.at);
  auto mix = [f](int x, int y) { return int(std::lround(x + f * (y - x))); };
  return qRgb(mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b));
}

}  // namespace

QRgb ColourScale::colour(double v) const {
  if (!std::isfinite(v)) return qRgb(200, 200, 200);
  const double t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
  return diverging ? interpolate(kDiverging, t) : interpolate(kSequential, t);
}

ColourScale ColourScale::spanning(double minValue, double maxValue, bool diverging) {
  ColourScale s;
  s.diverging = diverging;
  if (diverging) {
    double m = std::max(std::abs(minValue), std::abs(maxValue));
    if (!(m > 0)) m = 1e-12;
    s.lo = -m;
    s.hi = m;
  } else {
    s.lo = minValue;
    s.hi = maxValue > minValue ? maxValue : minValue + std::max(1e-12, std::abs(minValue) * 1e-6);
  }
  return s;
}

QString formatValue(double v) {
  if (v == 0) return "0";
  const double a = std::abs(v);
  if (v == std::round(v) && a < 1e9) return QString::number(qint64(v));  // counts read as counts
  if (a >= 1e-3 && a < 1e5) return QString::number(v, 'f', a >= 100 ? 1 : 3);
  return QString::number(v, 'e', 2);
}

ColourBar::ColourBar(QWidget* parent) : QWidget(parent) {
  setMinimumWidth(110);
}

void ColourBar::setScale(const ColourScale& scale, const QString& caption) {
  scale_ = scale;
  caption_ = caption;
  update();
}

void ColourBar::paintEvent(QPaintEvent*) {
  QPainter p(this);
  const QFontMetrics fm(font());
  // Caption on top (wrapped to the bar's width), then the ramp with its range.
  const QRect captionRect = fm.boundingRect(QRect(0, 0, width(), 1000), Qt::TextWordWrap, caption_);
  const int top = captionRect.height() + fm.height() / 2 + 6, bottom = height() - fm.height(), barW = 16;
  p.setPen(palette().color(QPalette::WindowText));
  p.drawText(QRect(0, 0, width(), captionRect.height()), Qt::AlignLeft | Qt::TextWordWrap, caption_);
  if (bottom <= top) return;
  QImage ramp(1, bottom - top, QImage::Format_RGB32);
  for (int y = 0; y < ramp.height(); ++y)
    ramp.setPixel(0, y,
                  scale_.colour(scale_.hi - (scale_.hi - scale_.lo) * y / std::max(1, ramp.height() - 1)));
  p.drawImage(QRect(4, top, barW, bottom - top), ramp);
  p.drawRect(QRect(4, top, barW, bottom - top));
  p.drawText(QPoint(barW + 8, top + fm.ascent() / 2), formatValue(scale_.hi));
  p.drawText(QPoint(barW + 8, bottom + fm.ascent() / 2), formatValue(scale_.lo));
  if (scale_.diverging) p.drawText(QPoint(barW + 8, (top + bottom) / 2 + fm.ascent() / 2), "0");
}

QColor seriesColour(int i) {
  static const QRgb kColours[] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                  0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
  constexpr int n = int(sizeof kColours / sizeof kColours[0]);
  return QColor(kColours[((i % n) + n) % n]);
}

}  // namespace moelab::ui
