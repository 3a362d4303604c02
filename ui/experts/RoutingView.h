#pragma once
#include <QMap>
#include <QPointF>
#include <QVector>
#include <QWidget>

class QSlider;

namespace moelab::ui {

class MetricChart;

// sparse_moe routing over training: per-layer CV, Gini, MaxVio, dropped fraction, router entropy,
// aux and z losses, one chart each with a series per layer (the run charts' zoom, pan, hover,
// smoothing and PNG export).
class RoutingView : public QWidget {
  Q_OBJECT
 public:
  explicit RoutingView(QWidget* parent = nullptr);
  // key "moe/layer{l}/{metric}" -> newer (step, value) rows.
  void appendRouting(const QMap<QString, QVector<QPointF>>& rows);
  void clear();
  MetricChart* chart(const QString& metric) const { return charts_.value(metric); }
  QList<MetricChart*> charts() const { return charts_.values(); }
  bool saveCsv(const QString& path) const;  // step, layer, metric, value

 private:
  QMap<QString, MetricChart*> charts_;
  QSlider* smoothing_;
};

}  // namespace moelab::ui
