#include "sweeps/SweepResultsView.h"

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLogValueAxis>
#include <QPushButton>
#include <QScatterSeries>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>
#include <QValueAxis>
#include <cmath>
#include <fstream>

#include "charts/MetricChart.h"
#include "sweeps/ParallelCoordinatesWidget.h"
#include "sweeps/ScalingView.h"
#include "sweeps/SweepTableModel.h"

namespace moelab::ui {

SweepResultsView::SweepResultsView(QWidget* parent) : QWidget(parent) {
  model_ = new SweepTableModel(this);
  proxy_ = new SweepFilterProxy(this);
  proxy_->setSourceModel(model_);
  filter_ = new QLineEdit;
  filter_->setPlaceholderText("Filter rows (any column: status, a value, an error)...");
  auto* clearBrushes = new QPushButton("Clear brushes");
  brushNote_ = new QLabel;
  table_ = new QTableView;
  table_->setModel(proxy_);
  table_->setSortingEnabled(true);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->verticalHeader()->hide();
  table_->setMinimumHeight(180);
  table_->sortByColumn(0, Qt::AscendingOrder);

  scatterParam_ = new QComboBox;
  scatter_ = new QChartView;
  scatter_->setRenderHint(QPainter::Antialiasing);
  auto* scatterPage = new QWidget;
  auto* sl = new QVBoxLayout(scatterPage);
  auto* sTop = new QHBoxLayout;
  sTop->addWidget(new QLabel("Parameter"));
  sTop->addWidget(scatterParam_);
  sTop->addStretch();
  sl->addLayout(sTop);
  sl->addWidget(scatter_, 1);
  parallel_ = new ParallelCoordinatesWidget;
  curves_ = new MetricChart("Sweep metric per run");
  scaling_ = new ScalingView;
  charts_ = new QTabWidget;
  charts_->addTab(scatterPage, "Metric vs parameter");
  charts_->addTab(parallel_, "Parallel coordinates");
  charts_->addTab(curves_, "Curves");
  charts_->addTab(scaling_, "Scaling");

  auto* top = new QHBoxLayout;
  top->addWidget(filter_, 1);
  top->addWidget(brushNote_);
  top->addWidget(clearBrushes);
  auto* tableBox = new QWidget;
  auto* tl = new QVBoxLayout(tableBox);
  tl->setContentsMargins(0, 0, 0, 0);
  tl->addLayout(top);
  tl->addWidget(table_);
  auto* split = new QSplitter(Qt::Vertical);
  split->addWidget(tableBox);
  split->addWidget(charts_);
  split->setStretchFactor(0, 2);
  split->setStretchFactor(1, 3);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(split);

  connect(filter_, &QLineEdit::textChanged, proxy_, &QSortFilterProxyModel::setFilterFixedString);
  connect(clearBrushes, &QPushButton::clicked, parallel_, &ParallelCoordinatesWidget::clearBrushes);
  connect(parallel_, &ParallelCoordinatesWidget::brushChanged, this,
          [this](const QSet<int>& pass, bool active) {
            proxy_->setBrushed(pass, active);
            brushNote_->setText(
                active ? QString("%1 of %2 runs inside the brushes").arg(pass.size()).arg(model_->rowCount())
                       : QString());
          });
  connect(scatterParam_, &QComboBox::currentTextChanged, this, [this] { rebuildScatter(); });
  connect(table_, &QTableView::doubleClicked, this, [this](const QModelIndex& i) {
    const QVariant run = proxy_->index(i.row(), 1).data(Qt::UserRole);
    if (run.isValid() && run.toLongLong() > 0) emit runActivated(run.toLongLong());
  });
}

void SweepResultsView::setSnapshot(const SweepSnapshot& s) {
  const bool sameSweep = s.haveTable && snapshot_.haveTable && s.table.sweep.id == snapshot_.table.sweep.id;
  snapshot_ = s;
  model_->setTable(s.haveTable ? s.table : SweepTable{});
  const QString keep = scatterParam_->currentText();
  QSignalBlocker block(scatterParam_);
  scatterParam_->clear();
  if (s.haveTable)
    for (const auto& k : s.table.varied) scatterParam_->addItem(QString::fromStdString(k));
  if (scatterParam_->findText(keep) >= 0) scatterParam_->setCurrentText(keep);
  rebuildScatter();
  // A refresh of the same sweep keeps the user's brushes.
  if (!sameSweep || !parallel_->brushActive()) rebuildParallel();
  curves_->clearSeries();
  for (auto it = s.curves.begin(); it != s.curves.end(); ++it)
    if (!it.value().isEmpty()) curves_->appendPoints(QString("#%1").arg(it.key()), it.value());
  curves_->setXTitle("step");
  scaling_->setTables(s.all);
}

void SweepResultsView::rebuildScatter() {
  auto* chart = new QChart;
  const std::string key = scatterParam_->currentText().toStdString();
  const SweepTable& t = snapshot_.table;
  const QString metric = QString::fromStdString(t.spec.metric);
  chart->setTitle(QString("best %1 vs %2").arg(metric, scatterParam_->currentText()));
  const bool log = snapshot_.haveTable && !key.empty() && prefersLogAxis(t, key);
  QAbstractAxis* x;
  if (log) {
    auto* lx = new QLogValueAxis;
    lx->setLabelFormat("%.2g");
    x = lx;
  } else {
    x = new QValueAxis;
  }
  x->setTitleText(scatterParam_->currentText() + (log ? " (log)" : ""));
  auto* y = new QValueAxis;
  y->setTitleText("best " + metric);
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  auto* done = new QScatterSeries;
  done->setName("runs");
  done->setMarkerSize(10);
  auto* best = new QScatterSeries;
  best->setName("best run");
  best->setColor(QColor(200, 30, 30));
  best->setMarkerSize(14);
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const auto& r = t.rows[i];
    const auto& v = r.values.value(key, nlohmann::json());
    if (!v.is_number() || std::isnan(r.best) || (log && v.get<double>() <= 0)) continue;
    (int(i) == t.bestRow ? best : done)->append(v.get<double>(), r.best);
    xlo = std::min(xlo, v.get<double>()), xhi = std::max(xhi, v.get<double>());
    ylo = std::min(ylo, r.best), yhi = std::max(yhi, r.best);
  }
  for (auto* s : {done, best}) {
    chart->addSeries(s);
    s->attachAxis(x);
    s->attachAxis(y);
  }
  if (std::isfinite(xlo)) {
    const double pad = (yhi - ylo) * 0.08 + 1e-6;
    y->setRange(ylo - pad, yhi + pad);
    if (log)
      x->setRange(xlo / 1.3, xhi * 1.3);
    else
      x->setRange(xlo - (xhi - xlo) * 0.08 - 1e-9, xhi + (xhi - xlo) * 0.08 + 1e-9);
  }
  QChart* old = scatter_->chart();
  scatter_->setChart(chart);
  delete old;
}

void SweepResultsView::rebuildParallel() {
  QVector<ParallelCoordinatesWidget::Axis> axes;
  QVector<ParallelCoordinatesWidget::Line> lines;
  const SweepTable& t = snapshot_.table;
  if (snapshot_.haveTable) {
    for (const auto& k : t.varied) {
      ParallelCoordinatesWidget::Axis a;
      a.name = QString::fromStdString(k.substr(k.find('.') + 1));
      a.log = prefersLogAxis(t, k);
      for (const auto& r : t.rows) {
        const auto& v = r.values.value(k, nlohmann::json());
        if (!v.is_number()) {
          const QString text = QString::fromStdString(v.is_string() ? v.get<std::string>() : v.dump());
          if (!a.categories.contains(text)) a.categories << text;
        }
      }
      axes << a;
    }
    axes << ParallelCoordinatesWidget::Axis{"best " + QString::fromStdString(t.spec.metric), false, {}};
    for (const auto& r : t.rows) {
      if (std::isnan(r.best)) continue;
      ParallelCoordinatesWidget::Line l;
      l.point = int(r.index);
      for (int a = 0; a < int(t.varied.size()); ++a) {
        const auto& v = r.values.value(t.varied[size_t(a)], nlohmann::json());
        l.values << (axes[a].categories.isEmpty() ? v.get<double>()
                                                  : double(axes[a].categories.indexOf(QString::fromStdString(
                                                        v.is_string() ? v.get<std::string>() : v.dump()))));
      }
      l.values << r.best;
      lines << l;
    }
  }
  const int best = t.bestRow >= 0 ? int(t.rows[size_t(t.bestRow)].index) : -1;
  parallel_->setData(axes, lines, best, t.spec.minimize());
}

QStringList SweepResultsView::exportFigures(const QString& dir) {
  QStringList files;
  QDir().mkpath(dir);
  const QSize size(1100, 650);
  {
    std::ofstream csv((dir + "/sweep.csv").toStdString());
    snapshot_.table.writeCsv(csv);
    if (csv) files << "sweep.csv";
  }
  const QString keep = scatterParam_->currentText();
  for (int i = 0; i < scatterParam_->count(); ++i) {
    scatterParam_->setCurrentIndex(i);
    const QString name = "metric-vs-" + scatterParam_->currentText().replace('.', '-') + ".png";
    const QSize old = scatter_->size();
    scatter_->resize(size);
    if (scatter_->grab().save(dir + "/" + name, "PNG")) files << name;
    scatter_->resize(old);
  }
  scatterParam_->setCurrentText(keep);
  if (parallel_->savePng(dir + "/parallel-coordinates.png", size)) files << "parallel-coordinates.png";
  if (curves_->savePng(dir + "/curves.png", size)) files << "curves.png";
  if (scaling_->savePng(dir + "/scaling.png", size)) files << "scaling.png";
  if (scaling_->saveCsv(dir + "/scaling.csv")) files << "scaling.csv";
  return files;
}

}  // namespace moelab::ui
