#include "sim/SimulationResultView.h"

#include <QAreaSeries>
#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QDir>
#include <QGridLayout>
#include <QHeaderView>
#include <QHorizontalBarSeries>
#include <QHorizontalStackedBarSeries>
#include <QLabel>
#include <QLineSeries>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QValueAxis>
#include <algorithm>
#include <cmath>

#include "charts/BarsWidget.h"
#include "charts/ColourScale.h"
#include "charts/HeatmapWidget.h"
#include "widgets/ScrollPanel.h"

namespace moelab::ui {
namespace {

QChartView* makeChartView(const QString& title) {
  auto* chart = new QChart;
  chart->setTitle(title);
  chart->legend()->setAlignment(Qt::AlignBottom);
  chart->setMargins(QMargins(4, 4, 4, 4));
  auto* v = new QChartView(chart);
  v->setRenderHint(QPainter::Antialiasing);
  v->setMinimumHeight(260);
  return v;
}

void resetChart(QChart* c) {
  c->removeAllSeries();
  for (auto* a : c->axes()) {
    c->removeAxis(a);
    delete a;
  }
}

std::vector<double> numbers(const nlohmann::json& j) {
  return j.is_array() ? j.get<std::vector<double>>() : std::vector<double>{};
}

QString bytesText(double b) {
  if (b >= 1e9) return QString::number(b / 1e9, 'f', 2) + " GB";
  if (b >= 1e6) return QString::number(b / 1e6, 'f', 2) + " MB";
  return QString::number(b / 1e3, 'f', 1) + " kB";
}

int slowest(const std::vector<double>& v) {
  return v.empty() ? -1 : int(std::max_element(v.begin(), v.end()) - v.begin());
}

}  // namespace

SimulationResultView::SimulationResultView(QWidget* parent) : QWidget(parent) {
  summary_ = new QLabel("Run a scenario to see its all-to-all cost.");
  summary_->setWordWrap(true);
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  dispatch_ = new BarsWidget;
  dispatch_->setItemName("GPU");
  combine_ = new BarsWidget;
  combine_->setItemName("GPU");
  for (auto* b : {dispatch_, combine_}) b->setMinimumHeight(200);
  matrix_ = new HeatmapWidget;
  matrix_->setMinimumSize(260, 260);
  steps_ = makeChartView("step-time distribution (all-to-all ms per step)");
  breakdown_ = makeChartView("first-layer dispatch: where the time goes (ms)");
  // Four parts with their values do not fit side by side under the bar: list them on the right.
  breakdown_->chart()->legend()->setAlignment(Qt::AlignRight);
  speedup_ = makeChartView("speed-up against the configured variant");
  table_ = new QTableWidget;
  collectives_ = new QTableWidget;
  for (auto* t : {table_, collectives_}) {
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->verticalHeader()->hide();
    t->setAlternatingRowColors(true);
  }
  table_->setMinimumHeight(170);
  collectives_->setMinimumHeight(150);
  collectives_->setToolTip(
      "First MoE layer, mean over steps. algbw = bytes per GPU / time and busbw = "
      "algbw (n-1)/n, as nccl-tests defines them; bytes count every (token, expert) "
      "copy a GPU dispatches, local ones included.");
  skipped_ = new QLabel;
  skipped_->setWordWrap(true);
  skipped_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  auto* content = new QWidget;
  auto* grid = new QGridLayout(content);
  grid->addWidget(summary_, 0, 0, 1, 2);
  grid->addWidget(collectives_, 1, 0, 1, 2);
  grid->addWidget(dispatch_, 2, 0);
  grid->addWidget(combine_, 2, 1);
  grid->addWidget(steps_, 3, 0);
  grid->addWidget(breakdown_, 3, 1);
  grid->addWidget(matrix_, 4, 0);
  grid->addWidget(speedup_, 4, 1);
  grid->addWidget(table_, 5, 0, 1, 2);
  grid->addWidget(skipped_, 6, 0, 1, 2);
  auto* scroll = scrollPanel(content);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(scroll);
}

void SimulationResultView::setResult(const nlohmann::json& r) {
  result_ = r;
  const auto& st = r.at("step_ms");
  const auto& cluster = r.at("cluster");
  summary_->setText(QString("<b>%1 GPUs</b> (%2, <b>%8</b> dispatch): all-to-all per step mean <b>%3 ms</b>, "
                            "P50 %4, P95 %5, P99 %6 ms · %7× the balanced-traffic time")
                        .arg(r.at("gpus").get<int>())
                        .arg(QString::fromStdString(cluster.value("name", std::string("cluster"))))
                        .arg(st.at("mean").get<double>(), 0, 'f', 3)
                        .arg(st.at("p50").get<double>(), 0, 'f', 3)
                        .arg(st.at("p95").get<double>(), 0, 'f', 3)
                        .arg(st.at("p99").get<double>(), 0, 'f', 3)
                        .arg(r.at("slowdown_vs_balanced").get<double>(), 0, 'f', 2)
                        .arg(QString::fromStdString(r.value("algorithm", std::string("flat")))));

  const auto finish = numbers(r.at("per_gpu").at("finish_ms"));
  const auto combine = numbers(r.at("per_gpu").value("combine_finish_ms", nlohmann::json::array()));
  for (auto [bars, values, what] : {std::tuple{dispatch_, finish, QString("dispatch")},
                                    std::tuple{combine_, combine, QString("combine")}}) {
    const int s = slowest(values);
    double mean = 0;
    for (double v : values) mean += v / double(values.size());
    bars->setValues(values);
    bars->setHighlight(s);
    bars->setReference(values.empty() ? NAN : mean, "mean");
    bars->setTitle(QString("first-layer %1: finish time per GPU (ms, mean over steps)").arg(what));
    bars->setCaption(s < 0 ? QString()
                           : QString("slowest: GPU %1 at %2 ms (red) · mean %3 ms")
                                 .arg(s)
                                 .arg(formatValue(values[size_t(s)]))
                                 .arg(formatValue(mean)));
    bars->setHoverFormat([what](int g, double v) {
      return QString("GPU %1: %2 finishes at %3 ms").arg(g).arg(what, formatValue(v));
    });
  }

  const auto& tm = r.at("traffic_matrix");
  const auto m = tm.at("bytes").get<std::vector<std::vector<double>>>();
  const QString unit = tm.at("unit").get<std::string>() == "gpu" ? "GPU" : "node";
  double hi = 0;
  for (const auto& row : m)
    for (double x : row) hi = std::max(hi, x);
  matrix_->setScale(ColourScale::spanning(0, hi, false));
  matrix_->setMatrix(m);
  matrix_->setTitle(QString("traffic, first-layer dispatch at step 0 (%1 × %1, bytes)").arg(unit));
  matrix_->setAxisCaptions("from " + unit, "to " + unit);
  matrix_->setBlockSize(unit == "GPU" ? r.value("gpus_per_node", 0) : 0);
  matrix_->setHoverFormat([unit](int a, int b, double v) {
    return QString("%1 %2 → %1 %3: %4").arg(unit).arg(a).arg(b).arg(bytesText(v));
  });
  fillCollectives();
  fillStepTimes();
  fillBreakdown();
  fillComparison();
}

void SimulationResultView::fillCollectives() {
  const auto rows = result_.value("collectives", nlohmann::json::array());
  const bool hierarchical = result_.value("algorithm", std::string()) == "hierarchical";
  const QStringList headers = {"collective (first layer)",
                               "time µs",
                               "MB / GPU",
                               "NIC MB / GPU",
                               "NVLink MB / GPU",
                               "algbw GB/s",
                               "busbw GB/s",
                               hierarchical ? "node copies / token" : "copies / token",
                               "bound by"};
  collectives_->clear();
  collectives_->setColumnCount(int(headers.size()));
  collectives_->setHorizontalHeaderLabels(headers);
  collectives_->setRowCount(int(rows.size()));
  for (int i = 0; i < int(rows.size()); ++i) {
    const auto& c = rows[size_t(i)];
    const double copies =
        c.at(hierarchical ? "node_copies_per_token" : "expert_copies_per_token").get<double>();
    const QStringList cells = {QString::fromStdString(c.at("name").get<std::string>()).replace('_', ' '),
                               QString::number(c.at("time_us").get<double>(), 'f', 1),
                               QString::number(c.at("bytes_per_gpu").get<double>() / 1e6, 'f', 3),
                               QString::number(c.at("nic_bytes_per_gpu").get<double>() / 1e6, 'f', 3),
                               QString::number(c.at("nvlink_bytes_per_gpu").get<double>() / 1e6, 'f', 3),
                               QString::number(c.at("algbw_GBps").get<double>(), 'f', 1),
                               QString::number(c.at("busbw_GBps").get<double>(), 'f', 1),
                               QString::number(copies, 'f', 2),
                               QString::fromStdString(c.at("bound_by").get<std::string>())};
    for (int k = 0; k < cells.size(); ++k) {
      auto* item = new QTableWidgetItem(cells[k]);
      if (k > 0 && k < 8) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      collectives_->setItem(i, k, item);
    }
  }
  collectives_->resizeColumnsToContents();
  // As tall as its rows: the table is a summary, not a scrolling list.
  int height = collectives_->horizontalHeader()->height() + 2 * collectives_->frameWidth();
  for (int i = 0; i < collectives_->rowCount(); ++i) height += collectives_->rowHeight(i);
  collectives_->setMinimumHeight(height);
  collectives_->setMaximumHeight(height);
}

void SimulationResultView::fillStepTimes() {
  QChart* c = steps_->chart();
  resetChart(c);
  const auto& st = result_.at("step_ms");
  const auto samples = numbers(st.at("samples"));
  if (samples.empty()) return;
  const double lo = *std::min_element(samples.begin(), samples.end());
  double hi = *std::max_element(samples.begin(), samples.end());
  if (hi <= lo) hi = lo + std::max(1e-6, lo * 1e-3);
  const int bins = std::clamp(int(std::sqrt(double(samples.size()))) * 2, 5, 40);
  std::vector<int> counts(size_t(bins), 0);
  for (double s : samples) counts[size_t(std::min(bins - 1, int((s - lo) / (hi - lo) * bins)))]++;
  auto* upper = new QLineSeries;
  auto* lower = new QLineSeries;
  int peak = 0;
  for (int b = 0; b < bins; ++b) {
    const double x0 = lo + (hi - lo) * b / bins, x1 = lo + (hi - lo) * (b + 1) / bins;
    upper->append(x0, counts[size_t(b)]);
    upper->append(x1, counts[size_t(b)]);
    lower->append(x0, 0);
    lower->append(x1, 0);
    peak = std::max(peak, counts[size_t(b)]);
  }
  auto* area = new QAreaSeries(upper, lower);
  area->setName(QString("%1 steps").arg(samples.size()));
  area->setColor(QColor(114, 159, 207));
  area->setBorderColor(QColor(52, 101, 164));
  c->addSeries(area);
  auto* x = new QValueAxis;
  x->setTitleText("ms per step");
  x->setRange(lo - (hi - lo) * 0.05, hi + (hi - lo) * 0.05);
  auto* y = new QValueAxis;
  y->setTitleText("steps");
  y->setRange(0, peak * 1.15 + 1);
  y->setLabelFormat("%d");
  c->addAxis(x, Qt::AlignBottom);
  c->addAxis(y, Qt::AlignLeft);
  area->attachAxis(x);
  area->attachAxis(y);
  const QColor colours[] = {QColor(78, 154, 6), QColor(245, 121, 0), QColor(204, 0, 0)};
  int i = 0;
  for (const char* p : {"p50", "p95", "p99"}) {
    const double v = st.at(p).get<double>();
    auto* line = new QLineSeries;
    line->setName(QString("%1 %2 ms").arg(QString(p).toUpper()).arg(formatValue(v)));
    line->append(v, 0);
    line->append(v, peak * 1.1 + 0.5);
    line->setPen(QPen(colours[i++], 2, Qt::DashLine));
    c->addSeries(line);
    line->attachAxis(x);
    line->attachAxis(y);
  }
}

void SimulationResultView::fillBreakdown() {
  QChart* c = breakdown_->chart();
  resetChart(c);
  const auto& b = result_.at("breakdown");
  auto* series = new QHorizontalStackedBarSeries;
  const std::pair<const char*, QColor> parts[] = {{"bandwidth", QColor(52, 101, 164)},
                                                  {"imbalance", QColor(204, 0, 0)},
                                                  {"per_peer", QColor(245, 121, 0)},
                                                  {"latency", QColor(237, 212, 0)}};
  for (const auto& [name, colour] : parts) {
    auto* set = new QBarSet(QString("%1 %2 ms")
                                .arg(QString(name).replace('_', '-'))
                                .arg(formatValue(b.value(std::string(name) + "_ms", 0.0))));
    set->setColor(colour);
    *set << b.value(std::string(name) + "_ms", 0.0);
    series->append(set);
  }
  c->addSeries(series);
  auto* cats = new QBarCategoryAxis;
  cats->setTruncateLabels(false);  // Qt cuts long labels to "..." well before space runs out
  cats->append(QString("dispatch %1 ms").arg(formatValue(b.at("dispatch_ms").get<double>())));
  auto* x = new QValueAxis;
  x->setTitleText("ms");
  c->addAxis(cats, Qt::AlignLeft);
  c->addAxis(x, Qt::AlignBottom);
  series->attachAxis(cats);
  series->attachAxis(x);
  x->applyNiceNumbers();
}

void SimulationResultView::fillComparison() {
  const auto& rows = result_.at("comparison");
  const QStringList headers = {"variant",
                               "mean ms",
                               "P50 ms",
                               "P95 ms",
                               "P99 ms",
                               "× balanced",
                               "speed-up vs configured",
                               "GB / step",
                               "inter-node GB / step",
                               "bottleneck"};
  table_->clear();
  table_->setColumnCount(int(headers.size()));
  table_->setHorizontalHeaderLabels(headers);
  table_->setRowCount(int(rows.size()));
  const double configured = rows.empty() ? 0 : rows[0].at("mean_ms").get<double>();
  QChart* c = speedup_->chart();
  resetChart(c);
  auto* set = new QBarSet("speed-up (configured mean / variant mean)");
  set->setColor(QColor(78, 154, 6));
  QStringList names;
  for (int i = 0; i < int(rows.size()); ++i) {
    const auto& r = rows[size_t(i)];
    const double mean = r.at("mean_ms").get<double>();
    const double speedup = mean > 0 ? configured / mean : 0;
    const QStringList cells = {QString::fromStdString(r.at("name").get<std::string>()),
                               QString::number(mean, 'f', 3),
                               QString::number(r.at("p50_ms").get<double>(), 'f', 3),
                               QString::number(r.at("p95_ms").get<double>(), 'f', 3),
                               QString::number(r.at("p99_ms").get<double>(), 'f', 3),
                               QString::number(r.at("slowdown_vs_balanced").get<double>(), 'f', 2),
                               QString::number(speedup, 'f', 2) + "×",
                               QString::number(r.at("bytes_per_step").get<double>() / 1e9, 'f', 3),
                               QString::number(r.at("inter_node_bytes_per_step").get<double>() / 1e9, 'f', 3),
                               QString::fromStdString(r.at("bottleneck").get<std::string>())};
    for (int k = 0; k < cells.size(); ++k) {
      auto* item = new QTableWidgetItem(cells[k]);
      if (k > 0 && k < 9) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      table_->setItem(i, k, item);
    }
    // "configured (zipf, contiguous, flat)" is in the table; the axis keeps the short name.
    names << QString("%1 %2×").arg(cells[0].section(" (", 0, 0)).arg(speedup, 0, 'f', 2);
    *set << speedup;
  }
  table_->resizeColumnsToContents();
  QStringList absent;
  for (const auto& k : result_.value("skipped", nlohmann::json::array()))
    absent << QString("<b>%1</b>: %2")
                  .arg(QString::fromStdString(k.at("name").get<std::string>()).toHtmlEscaped(),
                       QString::fromStdString(k.at("reason").get<std::string>()).toHtmlEscaped());
  skipped_->setText(absent.isEmpty() ? QString() : "Not compared — " + absent.join(" · "));
  skipped_->setVisible(!absent.isEmpty());
  auto* series = new QHorizontalBarSeries;
  series->append(set);
  c->addSeries(series);
  auto* cats = new QBarCategoryAxis;
  cats->setTruncateLabels(false);  // Qt cuts long labels to "..." well before space runs out
  // Bars are drawn bottom-up: the configured variant first means at the bottom.
  cats->append(names);
  auto* x = new QValueAxis;
  double top = 1;
  for (int i = 0; i < set->count(); ++i) top = std::max(top, set->at(i));
  x->setRange(0, top * 1.2);
  x->setTitleText("× (higher is faster; 1 = configured)");
  c->addAxis(cats, Qt::AlignLeft);
  c->addAxis(x, Qt::AlignBottom);
  series->attachAxis(cats);
  series->attachAxis(x);
}

bool SimulationResultView::saveChartsPng(const QString& folder) const {
  QDir().mkpath(folder);
  bool ok = true;
  const std::pair<QWidget*, const char*> charts[] = {
      {dispatch_, "dispatch-finish"}, {combine_, "combine-finish"}, {steps_, "step-time"},
      {breakdown_, "breakdown"},      {matrix_, "traffic-matrix"},  {speedup_, "comparison"},
      {table_, "comparison-table"},   {collectives_, "collectives"}};
  for (const auto& [w, name] : charts) ok = w->grab().save(folder + "/" + name + ".png", "PNG") && ok;
  return ok;
}

}  // namespace moelab::ui
