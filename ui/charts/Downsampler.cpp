#include "charts/Downsampler.h"

#include <algorithm>
#include <cmath>

namespace moelab::ui {

QVector<QPointF> downsampleMinMax(const QVector<QPointF>& points, double xMin, double xMax, int columns) {
  if (columns <= 0 || points.size() <= 4 * columns || !(xMax > xMin)) return points;
  QVector<QPointF> out;
  out.reserve(4 * columns + 2);
  const double width = (xMax - xMin) / columns;
  int i = 0;
  const int n = int(points.size());
  while (i < n) {
    const int column = int(std::floor((points[i].x() - xMin) / width));
    int first = i, lo = i, hi = i, last = i;
    for (++i; i < n && int(std::floor((points[i].x() - xMin) / width)) == column; ++i) {
      if (points[i].y() < points[lo].y()) lo = i;
      if (points[i].y() > points[hi].y()) hi = i;
      last = i;
    }
    int picks[4] = {first, lo, hi, last};
    std::sort(picks, picks + 4);
    for (int k = 0; k < 4; ++k)
      if (k == 0 || picks[k] != picks[k - 1]) out.push_back(points[picks[k]]);
  }
  return out;
}

QVector<QPointF> smoothEma(const QVector<QPointF>& points, double weight) {
  if (weight <= 0) return points;
  QVector<QPointF> out;
  out.reserve(points.size());
  double last = 0;
  int count = 0;
  for (const auto& p : points) {
    if (!std::isfinite(p.y())) {
      out.push_back(p);
      continue;
    }
    last = weight * last + (1 - weight) * p.y();
    ++count;
    out.push_back({p.x(), last / (1 - std::pow(weight, count))});
  }
  return out;
}

}  // namespace moelab::ui
