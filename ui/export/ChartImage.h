#pragma once
#include <QMap>
#include <QPointF>
#include <QSize>
#include <QString>
#include <QVector>

namespace moelab::ui {

class MetricChart;

// A chart's content as plain data (title, named series, smoothing), rendered to PNG by a
// throw-away offscreen MetricChart: how reports draw charts without touching the visible ones.
struct ChartImage {
  QString title, xTitle = "step";
  QMap<QString, QVector<QPointF>> series;
  double smoothing = 0;
  bool empty() const;
  static ChartImage of(const MetricChart& chart, double smoothing = 0);
};

// Renders at `size`; false when the file cannot be written.
bool renderChartPng(const ChartImage& image, const QString& path, const QSize& size = {1000, 640});

}  // namespace moelab::ui
