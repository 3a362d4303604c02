#include "run/RunPage.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDesktopServices>
#include <QDir>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSlider>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QUrl>
#include <QVBoxLayout>
#include <cmath>

#include "charts/MetricChart.h"
#include "charts/PngExportDialog.h"
#include "export/ChartImage.h"
#include "export/ExportService.h"
#include "report/AnalysisSummary.h"
#include "runs/RunsTableModel.h"
#include "store/ExperimentStore.h"

namespace moelab::ui {
namespace {
struct ChartSpec {
  const char* key;
  const char* title;
};
const ChartSpec kCharts[] = {{"train/loss", "Train loss"},
                             {"val/loss", "Validation loss"},
                             {"val/perplexity", "Validation perplexity"},
                             {"train/lr", "Learning rate"},
                             {"train/grad_norm", "Gradient norm"},
                             {"train/tokens_per_sec", "Tokens per second"},
                             {"system/rss_mb", "Memory (RSS, MB)"},
                             {"dist/ranks", "Step time per rank (s)"}};
const char* kRankChart = "dist/ranks";
const char* kRankParts[][2] = {{"compute_s", "compute"},
                               {"allreduce_s", "all-reduce wait"},
                               {"idle_s", "idle"},
                               {"alltoall_s", "all-to-all"}};

// The chart a metric key is drawn in, and its series there.
QString chartOf(const QString& key) {
  return key.startsWith("dist/rank") ? QString(kRankChart) : key;
}
QString seriesOf(const QString& key, qint64 run) {
  if (!key.startsWith("dist/rank")) return QString("run %1").arg(run);
  const QStringList parts = key.split('/');  // dist, rank{r}, part
  for (const auto& p : kRankParts)
    if (parts.value(2) == p[0]) return QString("r%1 %2").arg(parts.value(1).mid(4), p[1]);
  return key;
}
}  // namespace

QStringList RunPage::rankKeys(int ranks) {
  QStringList keys;
  for (int r = 0; ranks > 1 && r < ranks; ++r)
    for (const auto& p : kRankParts) keys << QString("dist/rank%1/%2").arg(r).arg(p[0]);
  return keys;
}

void RunPage::setRanks(int ranks) {
  charts_.value(kRankChart)->setVisible(ranks > 1);
}

QStringList RunPage::chartedKeys() {
  QStringList keys;
  for (const auto& c : kCharts)
    if (QString(c.key) != kRankChart) keys << c.key;
  return keys;
}

RunPage::RunPage(ExportService* exports, QWidget* parent) : QWidget(parent), exports_(exports) {
  title_ = new QLabel("No run selected: double-click a run in the Runs table, or start one");
  title_->setStyleSheet("font-size: 15px; font-weight: 600;");
  status_ = new QLabel;
  progress_ = new QLabel;
  error_ = new QLabel;
  error_->setWordWrap(true);
  error_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  error_->setStyleSheet("color: #c01c28;");
  error_->hide();
  stop_ = new QPushButton("Stop");
  resume_ = new QPushButton("Resume");
  newFrom_ = new QPushButton("New from this run");
  openFolder_ = new QPushButton("Open folder");
  export_ = new QPushButton("Export");
  buildExportMenu();
  for (auto* b : {stop_, resume_, newFrom_, openFolder_, export_}) b->setEnabled(false);
  connect(stop_, &QPushButton::clicked, this, [this] { emit stopRequested(runId_); });
  connect(resume_, &QPushButton::clicked, this, [this] { emit resumeRequested(runId_); });
  connect(newFrom_, &QPushButton::clicked, this, [this] { emit newFromRunRequested(runId_); });
  connect(openFolder_, &QPushButton::clicked, this,
          [this] { QDesktopServices::openUrl(QUrl::fromLocalFile(checkpointDir_)); });

  smoothing_ = new QSlider(Qt::Horizontal);
  smoothing_->setRange(0, 99);
  smoothing_->setValue(60);
  smoothing_->setMaximumWidth(160);
  smoothing_->setToolTip("Debiased EMA over the full train-loss series (0 = raw)");
  xAxis_ = new QComboBox;
  xAxis_->addItems({"Step", "Wall time (s)"});
  logY_ = new QCheckBox("Log scale");

  auto* header = new QHBoxLayout;
  header->addWidget(title_, 1);
  header->addWidget(status_);
  for (auto* b : {stop_, resume_, newFrom_, export_, openFolder_}) header->addWidget(b);
  auto* controls = new QHBoxLayout;
  controls->addWidget(progress_, 1);
  controls->addWidget(new QLabel("Smoothing"));
  controls->addWidget(smoothing_);
  controls->addWidget(new QLabel("X axis"));
  controls->addWidget(xAxis_);
  controls->addWidget(logY_);

  auto* grid = new QGridLayout;
  int i = 0;
  for (const auto& c : kCharts) {
    auto* chart = new MetricChart(c.title);
    charts_[c.key] = chart;
    // The per-rank chart has up to 4 series per rank: two cells wide, so its legend stays readable.
    grid->addWidget(chart, i / 3, i % 3, 1, QString(c.key) == kRankChart ? 2 : 1);
    ++i;
  }
  for (int column = 0; column < 3; ++column) grid->setColumnStretch(column, 1);
  charts_["train/loss"]->setSmoothing(0.6);
  charts_[kRankChart]->hide();
  auto* chartsWidget = new QWidget;
  chartsWidget->setLayout(grid);

  config_ = new QPlainTextEdit;
  provenance_ = new QPlainTextEdit;
  for (auto* t : {config_, provenance_}) {
    t->setReadOnly(true);
    t->setFont(QFont("monospace"));
  }
  analyses_ = new QTableWidget(0, 4);
  analyses_->setHorizontalHeaderLabels({"#", "Kind", "What was measured", "When"});
  analyses_->horizontalHeader()->setSectionResizeMode(2, QHeaderView::Stretch);
  analyses_->verticalHeader()->hide();
  analyses_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  analyses_->setSelectionBehavior(QAbstractItemView::SelectRows);
  auto* details = details_ = new QTabWidget;
  details->addTab(config_, "Config");
  details->addTab(provenance_, "Data provenance");
  details->addTab(analyses_, "Evaluations");
  auto* split = new QSplitter(Qt::Vertical);
  split->addWidget(chartsWidget);
  split->addWidget(details);
  split->setStretchFactor(0, 4);
  split->setStretchFactor(1, 1);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(header);
  layout->addWidget(error_);
  layout->addLayout(controls);
  layout->addWidget(split, 1);

  connect(smoothing_, &QSlider::valueChanged, this,
          [this](int v) { charts_["train/loss"]->setSmoothing(double(v) / 100.0); });
  connect(xAxis_, &QComboBox::currentIndexChanged, this, &RunPage::refillCharts);
  connect(logY_, &QCheckBox::toggled, this, [this](bool on) {
    for (auto* c : charts_) c->setLogY(on);
  });
}

void RunPage::showRun(const RunRecord& r) {
  runId_ = r.id;
  checkpointDir_ = QString::fromStdString(r.checkpointDir);
  title_->setText(QString("Run %1 · %2 · %3")
                      .arg(r.id)
                      .arg(QString::fromStdString(r.name), QString::fromStdString(r.experiment)));
  config_->setPlainText(QString::fromStdString(r.config.dump(2)));
  provenance_->setPlainText(r.provenance.is_null() ? "(not recorded yet)"
                                                   : QString::fromStdString(r.provenance.dump(2)));
  progress_->clear();
  byStep_.clear();
  byTime_.clear();
  t0_ = NAN;
  for (auto* c : charts_) c->clearSeries();
  newFrom_->setEnabled(true);
  export_->setEnabled(true);
  openFolder_->setEnabled(!checkpointDir_.isEmpty());
  setStatus(QString::fromStdString(r.status), QString::fromStdString(r.error));
}

void RunPage::showAnalyses(const std::vector<AnalysisRecord>& analyses) {
  analyses_->setRowCount(int(analyses.size()));
  for (int i = 0; i < int(analyses.size()); ++i) {
    const auto& a = analyses[analyses.size() - 1 - size_t(i)];  // newest first
    const QStringList cells = {QString::number(a.id), QString::fromStdString(a.kind),
                               QString::fromStdString(summarizeAnalysis(a)),
                               QString::fromStdString(a.createdAt)};
    for (int c = 0; c < cells.size(); ++c) {
      auto* item = new QTableWidgetItem(cells[c]);
      item->setToolTip(QString::fromStdString(a.label));
      analyses_->setItem(i, c, item);
    }
  }
  analyses_->resizeColumnToContents(0);
  analyses_->resizeColumnToContents(1);
  analyses_->resizeColumnToContents(3);
  details_->setTabText(details_->indexOf(analyses_), QString("Evaluations (%1)").arg(analyses.size()));
}

void RunPage::setStatus(const QString& status, const QString& error) {
  status_->setText(status);
  status_->setStyleSheet(QString("font-weight: 600; color: %1;").arg(statusColor(status).name()));
  error_->setText(error);
  error_->setVisible(!error.isEmpty());
  stop_->setEnabled(status == "running");
  resume_->setEnabled(status == "interrupted" || status == "failed");
}

void RunPage::updateSummary(const RunSummary& s) {
  if (s.id != runId_) return;
  setStatus(s.status, s.error);
  if (s.status != "running")
    progress_->setText(s.totalSteps > 0 ? QString("step %1 of %2").arg(s.step).arg(s.totalSteps)
                                        : QString("step %1").arg(s.step));
}

void RunPage::setProgress(const TrainProgress& p) {
  progress_->setText(QString("step %1 / %2   loss %3   %4 tok/s   lr %5")
                         .arg(p.step)
                         .arg(p.totalSteps)
                         .arg(p.loss, 0, 'f', 4)
                         .arg(p.tokensPerSecond, 0, 'f', 0)
                         .arg(p.learningRate, 0, 'g', 3));
}

void RunPage::appendMetrics(const QString& key, const QVector<QPointF>& byStep,
                            const QVector<QPointF>& byTime) {
  MetricChart* chart = charts_.value(chartOf(key));
  if (!chart) return;
  // Wall time as seconds since the run's first row, not since 1970.
  if (!std::isfinite(t0_) && !byTime.isEmpty()) t0_ = byTime.first().x();
  QVector<QPointF> relative = byTime;
  for (auto& p : relative) p.setX(p.x() - t0_);
  byStep_[key] += byStep;
  byTime_[key] += relative;
  chart->appendPoints(seriesOf(key, runId_), xAxis_->currentIndex() == 0 ? byStep : relative);
}

void RunPage::refillCharts() {
  const bool byStep = xAxis_->currentIndex() == 0;
  for (auto* chart : charts_) {
    chart->clearSeries();
    chart->setXTitle(byStep ? "step" : "seconds since the first row");
  }
  const auto& source = byStep ? byStep_ : byTime_;
  for (const auto& c : kCharts)
    if (QString(c.key) != kRankChart)
      charts_[c.key]->appendPoints(seriesOf(c.key, runId_), source.value(c.key));
  for (auto it = source.cbegin(); it != source.cend(); ++it)
    if (chartOf(it.key()) == kRankChart)
      charts_[kRankChart]->appendPoints(seriesOf(it.key(), runId_), it.value());
}

}  // namespace moelab::ui

namespace moelab::ui {

void RunPage::buildExportMenu() {
  auto* menu = new QMenu(export_);
  const auto suggested = [this](const QString& what) {
    return QDir::home().filePath(QString("run-%1-%2").arg(runId_).arg(what));
  };
  menu->addAction("Metrics as CSV (long: one row per metric and step)...", this, [this, suggested] {
    const QString p =
        QFileDialog::getSaveFileName(this, "Export metrics", suggested("metrics-long.csv"), "CSV (*.csv)");
    if (!p.isEmpty()) exports_->exportMetricsCsv(runId_, p, /*wide=*/false);
  });
  menu->addAction("Metrics as CSV (wide: one row per step)...", this, [this, suggested] {
    const QString p =
        QFileDialog::getSaveFileName(this, "Export metrics", suggested("metrics-wide.csv"), "CSV (*.csv)");
    if (!p.isEmpty()) exports_->exportMetricsCsv(runId_, p, /*wide=*/true);
  });
  menu->addAction("Charts as PNG...", this, [this] {
    PngExportDialog dialog(QDir::home().filePath(QString("run-%1-charts").arg(runId_)), this);
    dialog.setWindowTitle("Save every chart as PNG (the file name is the folder)");
    if (dialog.exec() == QDialog::Accepted) saveChartsPng(dialog.path().chopped(4), dialog.size());
  });
  menu->addAction("Report (index.html + CSVs + charts)...", this, [this] {
    const QString folder =
        QFileDialog::getExistingDirectory(this, "Folder for the report of run " + QString::number(runId_));
    if (!folder.isEmpty())
      exports_->exportRunReport(runId_, QDir(folder).filePath(QString("run-%1-report").arg(runId_)),
                                chartImages());
  });
  menu->addSeparator();
  menu->addAction("Weights as safetensors (best checkpoint)...", this, [this, suggested] {
    const QString p = QFileDialog::getSaveFileName(this, "Export weights", suggested("best.safetensors"),
                                                   "safetensors (*.safetensors)");
    if (!p.isEmpty()) exports_->exportWeights(runId_, p, /*best=*/true);
  });
  export_->setMenu(menu);
}

QVector<ChartImage> RunPage::chartImages() const {
  QVector<ChartImage> out;
  for (const auto& c : kCharts) {
    ChartImage image = ChartImage::of(*charts_.value(c.key),
                                      QString(c.key) == "train/loss" ? smoothing_->value() / 100.0 : 0);
    image.xTitle = xAxis_->currentIndex() == 0 ? "step" : "seconds since the first row";
    out.push_back(image);
  }
  return out;
}

void RunPage::saveChartsPng(const QString& folder, const QSize& size) {
  QDir().mkpath(folder);
  int written = 0;
  for (auto it = charts_.cbegin(); it != charts_.cend(); ++it)
    written += it.value()->savePng(QDir(folder).filePath(it.value()->fileSlug() + ".png"), size);
  if (written < charts_.size())
    QMessageBox::warning(this, "Save charts",
                         "Cannot write into " + folder + ": choose a folder you can write to.");
}

}  // namespace moelab::ui
