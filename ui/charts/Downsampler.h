#pragma once
#include <QPointF>
#include <QVector>

namespace moelab::ui {

// Reduces a series (x ascending) to at most ~4 points per pixel column for drawing: in each column
// the first, the minimum, the maximum and the last point, in x order. Every extreme survives, so a
// spike is never lost to the reduction (unlike random or stride sampling).
QVector<QPointF> downsampleMinMax(const QVector<QPointF>& points, double xMin, double xMax, int columns);

// Debiased exponential moving average (as TensorBoard's smoothing): s_t = a s_{t-1} + (1-a) y_t,
// divided by 1 - a^t so the start is not pulled toward zero. Non-finite values are passed through
// and do not enter the average. Computed on the full series, before any downsampling.
QVector<QPointF> smoothEma(const QVector<QPointF>& points, double weight);

}  // namespace moelab::ui
