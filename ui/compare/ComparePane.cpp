#include "compare/ComparePane.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>
#include <fstream>

#include "charts/MetricChart.h"
#include "export/ExportService.h"

namespace moelab::ui {

namespace {
const QColor kDiffers(255, 236, 170);
}

ComparePane::ComparePane(ExportService* exports, QWidget* parent) : QWidget(parent), exports_(exports) {
  title_ = new QLabel("Select two or more runs in the Runs table and press Compare");
  title_->setStyleSheet("font-size: 15px; font-weight: 600;");
  metric_ = new QComboBox;
  metric_->setMinimumContentsLength(22);
  onlyDiff_ = new QCheckBox("Only differing config fields");
  onlyDiff_->setChecked(true);
  logY_ = new QCheckBox("Log scale");
  savePng_ = new QPushButton("Save chart as PNG...");
  saveCsv_ = new QPushButton("Export table CSV...");
  report_ = new QPushButton("Export report...");
  for (auto* b : {savePng_, saveCsv_, report_}) b->setEnabled(false);

  chart_ = new MetricChart("");
  table_ = new QTableWidget;
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setAlternatingRowColors(true);

  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel("Metric"));
  controls->addWidget(metric_);
  controls->addWidget(logY_);
  controls->addStretch(1);
  controls->addWidget(onlyDiff_);
  controls->addWidget(savePng_);
  controls->addWidget(saveCsv_);
  controls->addWidget(report_);
  auto* split = new QSplitter(Qt::Vertical);
  split->addWidget(chart_);
  split->addWidget(table_);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(title_);
  layout->addLayout(controls);
  layout->addWidget(split, 1);

  connect(&watcher_, &QFutureWatcher<ComparisonData>::finished, this, [this] { display(watcher_.result()); });
  connect(metric_, &QComboBox::currentTextChanged, this, &ComparePane::fillChart);
  connect(onlyDiff_, &QCheckBox::toggled, this, &ComparePane::fillTable);
  connect(logY_, &QCheckBox::toggled, chart_, &MetricChart::setLogY);
  connect(savePng_, &QPushButton::clicked, chart_, &MetricChart::exportPngInteractively);
  connect(saveCsv_, &QPushButton::clicked, this, [this] {
    const QString path =
        QFileDialog::getSaveFileName(this, "Export comparison table", "comparison.csv", "CSV (*.csv)");
    if (!path.isEmpty() && !writeTableCsv(path))
      QMessageBox::warning(this, "Export table",
                           "Cannot write " + path + ": choose a folder you can write to.");
  });
  connect(report_, &QPushButton::clicked, this, [this] {
    const QString folder = QFileDialog::getExistingDirectory(this, "Folder for the comparison report");
    if (folder.isEmpty()) return;
    QVector<ChartImage> charts;
    for (const QString key : {"train/loss", "val/loss", "val/perplexity"}) {
      if (!data_.series.contains(key)) continue;
      ChartImage c;
      c.title = key;
      c.series = data_.series.value(key);
      c.smoothing = key == "train/loss" ? 0.6 : 0;
      charts.push_back(c);
    }
    if (!charts.isEmpty() && !data_.series.contains(metric_->currentText()))
      charts.push_back(ChartImage::of(*chart_));
    exports_->exportComparisonReport(data_.ids, folder, charts);
  });
}

void ComparePane::setDatabase(const QString& path) {
  dbPath_ = path;
  data_ = {};
  display(data_);
}

void ComparePane::compare(const QList<qint64>& ids) {
  if (dbPath_.isEmpty() || ids.size() < 2) return;
  QStringList names;
  for (qint64 id : ids) names << QString::number(id);
  title_->setText("Loading runs " + names.join(", ") + "...");
  watcher_.setFuture(QtConcurrent::run(loadComparison, dbPath_, ids));
}

void ComparePane::display(const ComparisonData& d) {
  data_ = d;
  const bool ok = d.error.isEmpty() && d.table.runs.size() >= 2;
  for (auto* b : {savePng_, saveCsv_, report_}) b->setEnabled(ok);
  if (!d.error.isEmpty()) {
    title_->setText("Cannot compare: " + d.error);
  } else if (!ok) {
    title_->setText("Select two or more runs in the Runs table and press Compare");
  } else {
    QStringList names;
    for (const auto& r : d.table.runs) names << QString::number(r.id);
    title_->setText(QString("Runs %1 · %2 config field(s) differ")
                        .arg(names.join(", "))
                        .arg(d.table.differingConfigFields()));
  }
  const QString previous = metric_->currentText();
  {
    QSignalBlocker block(metric_);
    metric_->clear();
    metric_->addItems(d.keys);
    const QString want = d.keys.contains(previous) ? previous : QString("train/loss");
    if (d.keys.contains(want)) metric_->setCurrentText(want);
  }
  fillChart();
  fillTable();
  emit loaded();
}

void ComparePane::fillChart() {
  const QString key = metric_->currentText();
  chart_->clearSeries();
  chart_->chart()->setTitle(key);
  chart_->setSmoothing(key == "train/loss" ? 0.6 : 0);
  const auto series = data_.series.value(key);
  for (auto it = series.cbegin(); it != series.cend(); ++it) chart_->appendPoints(it.key(), it.value());
}

void ComparePane::fillTable() {
  const auto& t = data_.table;
  table_->clear();
  QStringList header{"section", "field"};
  for (const auto& r : t.runs) header << QString("run %1 · %2").arg(r.id).arg(QString::fromStdString(r.name));
  table_->setColumnCount(int(header.size()));
  table_->setHorizontalHeaderLabels(header);
  table_->setRowCount(0);
  for (const auto& row : t.rows) {
    if (onlyDiff_->isChecked() && row.section == "config" && !row.differs) continue;
    const int r = table_->rowCount();
    table_->insertRow(r);
    QStringList cells{QString::fromStdString(row.section), QString::fromStdString(row.field)};
    for (const auto& v : row.values) cells << QString::fromStdString(v);
    // Config fields that differ are highlighted; in a loss or perplexity row the best (lowest)
    // value is bold.
    const bool lossRow = row.section != "config" && (row.field.find("loss") != std::string::npos ||
                                                     row.field.find("perplexity") != std::string::npos);
    int best = -1;
    for (int c = 2; lossRow && row.differs && c < cells.size(); ++c) {
      bool ok = false;
      const double v = cells[c].toDouble(&ok);
      if (ok && (best < 0 || v < cells[best].toDouble())) best = c;
    }
    for (int c = 0; c < cells.size(); ++c) {
      auto* item = new QTableWidgetItem(cells[c]);
      if (row.differs && row.section == "config") {
        item->setBackground(kDiffers);
        item->setForeground(Qt::black);
        item->setToolTip("differs between the runs");
      }
      if (c == best) {
        QFont f = item->font();
        f.setBold(true);
        item->setFont(f);
        item->setToolTip("best (lowest) of the runs");
      }
      table_->setItem(r, c, item);
    }
  }
  table_->resizeColumnsToContents();
}

bool ComparePane::writeTableCsv(const QString& path) const {
  std::ofstream f(path.toStdString(), std::ios::binary | std::ios::trunc);
  if (!f) return false;
  data_.table.writeCsv(f);
  return bool(f);
}

}  // namespace moelab::ui
