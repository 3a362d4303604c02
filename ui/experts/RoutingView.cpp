#include "experts/RoutingView.h"

#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QVBoxLayout>
#include <fstream>

#include "charts/MetricChart.h"
#include "experts/ExpertViewLoader.h"
#include "io/CsvWriter.h"
#include "widgets/ScrollPanel.h"

namespace moelab::ui {
namespace {
QString titleOf(const QString& metric) {
  static const QMap<QString, QString> titles = {{"cv", "coefficient of variation of expert load"},
                                                {"gini", "Gini of expert load"},
                                                {"max_vio", "MaxVio (max load / mean − 1)"},
                                                {"dropped_fraction", "dropped fraction (over capacity)"},
                                                {"router_entropy", "router entropy (nats)"},
                                                {"aux_loss", "load-balancing aux loss"},
                                                {"z_loss", "router z-loss"}};
  return titles.value(metric, metric);
}
}  // namespace

RoutingView::RoutingView(QWidget* parent) : QWidget(parent) {
  smoothing_ = new QSlider(Qt::Horizontal);
  smoothing_->setRange(0, 99);
  smoothing_->setMaximumWidth(220);
  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel("Per-layer routing statistics at every log step. Smoothing"));
  controls->addWidget(smoothing_);
  controls->addStretch(1);
  auto* grid = new QWidget;
  auto* gl = new QGridLayout(grid);
  int i = 0;
  for (const QString& m : routingMetricNames()) {
    auto* c = new MetricChart(titleOf(m));
    c->setMinimumHeight(230);
    c->setXTitle("step");
    charts_[m] = c;
    gl->addWidget(c, i / 2, i % 2);
    ++i;
  }
  auto* scroll = scrollPanel(grid);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addWidget(scroll, 1);
  connect(smoothing_, &QSlider::valueChanged, this, [this](int v) {
    for (auto* c : charts_) c->setSmoothing(v / 100.0);
  });
}

void RoutingView::appendRouting(const QMap<QString, QVector<QPointF>>& rows) {
  for (auto it = rows.begin(); it != rows.end(); ++it) {
    // "moe/layer3/cv" -> chart "cv", series "layer 3"
    const QString layer = it.key().section('/', 1, 1), metric = it.key().section('/', 2);
    if (auto* c = charts_.value(metric); c && !it.value().isEmpty())
      c->appendPoints("layer " + layer.mid(5), it.value());
  }
}

void RoutingView::clear() {
  for (auto* c : charts_) c->clearSeries();
}

bool RoutingView::saveCsv(const QString& path) const {
  std::ofstream out(path.toStdString());
  if (!out) return false;
  CsvWriter w(out);
  for (const char* h : {"metric", "layer", "step", "value"}) w.text(h);
  w.endRow();
  for (auto it = charts_.begin(); it != charts_.end(); ++it)
    for (const QString& series : it.value()->seriesNames())
      for (const QPointF& p : it.value()->points(series)) {
        w.text(it.key().toStdString()).number(series.mid(6).toDouble()).number(p.x()).number(p.y());
        w.endRow();
      }
  return bool(out);
}

}  // namespace moelab::ui
