#include "experts/ExpertViewsPane.h"

#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QTabWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>
#include <algorithm>

#include "charts/MetricChart.h"
#include "experts/CouplingView.h"
#include "experts/RoutingView.h"
#include "experts/UsageView.h"

namespace moelab::ui {

ExpertViewsPane::ExpertViewsPane(QWidget* parent) : QWidget(parent) {
  title_ = new QLabel("Open a gnn_moe or sparse_moe run (Runs table) to see its experts");
  title_->setStyleSheet("font-size: 15px; font-weight: 600;");
  png_ = new QPushButton("Save view as PNG...");
  csv_ = new QPushButton("Export CSV...");
  coupling_ = new CouplingView;
  usage_ = new UsageView;
  routing_ = new RoutingView;
  tabs_ = new QTabWidget;
  tabs_->addTab(coupling_, "Coupling");
  tabs_->addTab(usage_, "Usage");
  tabs_->addTab(routing_, "Routing");
  auto* header = new QHBoxLayout;
  header->addWidget(title_, 1);
  header->addWidget(png_);
  header->addWidget(csv_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(header);
  layout->addWidget(tabs_, 1);

  connect(&watcher_, &QFutureWatcher<ExpertViewUpdate>::finished, this, [this] {
    apply(watcher_.result());
    if (again_) {
      again_ = false;
      refresh();
    }
  });
  connect(png_, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getSaveFileName(
        this, "Save view as PNG",
        QString("run-%1-%2.png").arg(run_).arg(tabs_->tabText(tabs_->currentIndex()).toLower()),
        "PNG image (*.png)");
    if (!path.isEmpty() && !exportPng(path)) QMessageBox::warning(this, "Save PNG", "Cannot write " + path);
  });
  connect(csv_, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getSaveFileName(
        this, "Export CSV",
        QString("run-%1-%2.csv").arg(run_).arg(tabs_->tabText(tabs_->currentIndex()).toLower()),
        "CSV (*.csv)");
    if (!path.isEmpty() && !exportCsv(path)) QMessageBox::warning(this, "Export CSV", "Cannot write " + path);
  });
}

void ExpertViewsPane::showEvent(QShowEvent* e) {
  QWidget::showEvent(e);
  if (stale_) refresh();
}

void ExpertViewsPane::setDatabase(const QString& path) {
  dbPath_ = path;
  reset(0);
  title_->setText("Open a gnn_moe or sparse_moe run (Runs table) to see its experts");
}

void ExpertViewsPane::reset(qint64 run) {
  ++generation_;
  run_ = run;
  architecture_.clear();
  cursor_ = {};
  artifacts_ = {};
  coupling_->clear();
  usage_->clear();
  routing_->clear();
}

void ExpertViewsPane::showRun(qint64 run) {
  if (run == run_) return refresh();
  reset(run);
  title_->setText(QString("Run %1 · loading...").arg(run));
  refresh();
}

void ExpertViewsPane::refresh() {
  if (dbPath_.isEmpty() || run_ <= 0) return;
  if (!isVisible()) {  // nobody looks: read when the pane is shown (saves a read per poll while training)
    stale_ = true;
    return;
  }
  stale_ = false;
  if (watcher_.isRunning()) {
    again_ = true;
    return;
  }
  watcher_.setFuture(QtConcurrent::run(loadExpertViewUpdate, dbPath_, run_, cursor_, generation_));
}

void ExpertViewsPane::apply(const ExpertViewUpdate& u) {
  if (u.generation != generation_) return refresh();  // the user moved on while it read
  if (u.reset) reset(run_);                           // the run was rewound (resumed): what we held is gone
  if (!u.error.isEmpty()) {
    title_->setText(QString("Run %1: %2").arg(u.run).arg(u.error));
    return;
  }
  const bool first = architecture_.isEmpty();
  architecture_ = u.architecture;
  title_->setText(QString("Run %1 · %2 · %3 · %4").arg(u.run).arg(u.name, u.architecture, u.status));
  const bool gnn = architecture_ == "gnn_moe", sparse = architecture_ == "sparse_moe";
  tabs_->setTabEnabled(0, gnn);
  tabs_->setTabEnabled(2, sparse);
  tabs_->setTabEnabled(1, gnn || sparse);
  if (first) tabs_->setCurrentIndex(gnn ? 0 : 1);
  if (!gnn && !sparse)
    title_->setText(
        QString("Run %1 · %2 is a dense model: it has no experts to show").arg(u.run).arg(u.name));

  const bool newCoupling = !u.artifacts.coupling.empty(), newCounts = !u.artifacts.counts.empty();
  artifacts_.merge(u.artifacts);
  cursor_.couplingStep = artifacts_.lastCouplingStep();
  cursor_.countsStep = artifacts_.lastCountsStep();
  for (const auto& rows : u.routing)
    if (!rows.isEmpty())
      cursor_.routingStep = std::max<int64_t>(cursor_.routingStep, int64_t(rows.back().x()));
  if (gnn && (newCoupling || first)) {
    coupling_->setSnapshots(artifacts_.coupling);
    usage_->setShares(artifacts_.coupling);
  }
  if (sparse && (newCounts || first)) usage_->setCounts(artifacts_.counts);
  if (sparse) routing_->appendRouting(u.routing);
  emit updated(u.run);
}

bool ExpertViewsPane::exportPng(const QString& path) const {
  if (tabs_->currentWidget() == coupling_) return coupling_->savePng(path);
  if (tabs_->currentWidget() == usage_) return usage_->savePng(path);
  return const_cast<RoutingView*>(routing_)->grab().save(path, "PNG");
}

bool ExpertViewsPane::exportCsv(const QString& path) const {
  if (tabs_->currentWidget() == coupling_) return coupling_->saveCsv(path);
  if (tabs_->currentWidget() == usage_) return usage_->saveCsv(path);
  return routing_->saveCsv(path);
}

}  // namespace moelab::ui
