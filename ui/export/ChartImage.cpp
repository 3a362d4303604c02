#include "export/ChartImage.h"

#include "charts/MetricChart.h"

namespace moelab::ui {

bool ChartImage::empty() const {
  for (const auto& s : series)
    if (!s.isEmpty()) return false;
  return true;
}

ChartImage ChartImage::of(const MetricChart& chart, double smoothing) {
  ChartImage image;
  image.title = chart.title();
  for (const QString& name : chart.seriesNames()) image.series[name] = chart.points(name);
  image.smoothing = smoothing;
  return image;
}

bool renderChartPng(const ChartImage& image, const QString& path, const QSize& size) {
  MetricChart chart(image.title);
  chart.setXTitle(image.xTitle);
  chart.setSmoothing(image.smoothing);
  for (auto it = image.series.cbegin(); it != image.series.cend(); ++it)
    chart.appendPoints(it.key(), it.value());
  return chart.savePng(path, size);
}

}  // namespace moelab::ui
