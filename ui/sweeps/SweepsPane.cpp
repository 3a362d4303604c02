#include "sweeps/SweepsPane.h"

#include <QDir>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QTextStream>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>
#include <fstream>

#include "report/RunComparison.h"
#include "sweeps/SweepEditor.h"
#include "sweeps/SweepResultsView.h"
#include "sweeps/SweepWorker.h"
#include "widgets/ScrollPanel.h"

namespace moelab::ui {

SweepsPane::SweepsPane(QWidget* parent) : QWidget(parent) {
  list_ = new QTableWidget(0, 4);
  list_->setHorizontalHeaderLabels({"id", "sweep", "status", "points"});
  list_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  list_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
  list_->verticalHeader()->hide();
  list_->setSelectionBehavior(QAbstractItemView::SelectRows);
  list_->setSelectionMode(QAbstractItemView::SingleSelection);
  list_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  list_->setMinimumWidth(300);
  editor_ = new SweepEditor;
  results_ = new SweepResultsView;
  status_ = new QLabel("No sweep selected.");
  status_->setWordWrap(true);
  resume_ = new QPushButton("Resume");
  stop_ = new QPushButton("Stop");
  exportCsv_ = new QPushButton("Export CSV...");
  exportReport_ = new QPushButton("Export report...");
  auto* resultsPage = new QWidget;
  auto* rl = new QVBoxLayout(resultsPage);
  auto* bar = new QHBoxLayout;
  bar->addWidget(status_, 1);
  for (auto* b : {resume_, stop_, exportCsv_, exportReport_}) bar->addWidget(b);
  rl->addLayout(bar);
  rl->addWidget(results_, 1);
  tabs_ = new QTabWidget;
  tabs_->addTab(resultsPage, "Results");
  tabs_->addTab(scrollPanel(editor_), "New sweep");
  auto* split = new QSplitter;
  split->addWidget(list_);
  split->addWidget(tabs_);
  split->setStretchFactor(1, 4);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(split);

  poll_.setInterval(2000);
  connect(&poll_, &QTimer::timeout, this, [this] {
    if (isVisible()) refresh();
  });
  connect(&watcher_, &QFutureWatcher<SweepSnapshot>::finished, this, [this] {
    snapshot_ = watcher_.result();
    applySnapshot();
    if (reloadPending_) {
      reloadPending_ = false;
      refresh();
    }
  });
  connect(list_, &QTableWidget::itemSelectionChanged, this, [this] {
    const auto rows = list_->selectionModel()->selectedRows();
    if (rows.isEmpty()) return;
    const qint64 id = list_->item(rows[0].row(), 0)->data(Qt::UserRole).toLongLong();
    if (id != selected_) {
      selected_ = id;
      refresh();
    }
  });
  connect(editor_, &SweepEditor::startRequested, this, &SweepsPane::startSweep);
  connect(results_, &SweepResultsView::runActivated, this, &SweepsPane::runActivated);
  connect(resume_, &QPushButton::clicked, this, [this] { resumeSweep(selected_); });
  connect(stop_, &QPushButton::clicked, this, [this] {
    for (auto* w : workers_)
      if (w->sweepId() == selected_) w->requestStop();
    status_->setText("Stopping: each run saves a checkpoint at its next step; Resume continues the sweep.");
  });
  connect(exportCsv_, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, "Export sweep CSV", "sweep.csv", "CSV (*.csv)");
    if (path.isEmpty()) return;
    std::ofstream out(path.toStdString());
    snapshot_.table.writeCsv(out);
    emit message(out ? "Wrote " + path : "Cannot write " + path);
  });
  connect(exportReport_, &QPushButton::clicked, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, "Folder for the sweep report");
    if (!dir.isEmpty()) exportReport(dir + "/sweep-" + QString::number(selected_));
  });
  updateButtons();
}

SweepsPane::~SweepsPane() {
  stopAll();
  watcher_.waitForFinished();
}

void SweepsPane::setDatabase(ExperimentStore* store, const QString& path) {
  store_ = store;
  dbPath_ = path;
  selected_ = 0;
  snapshot_ = {};
  results_->setSnapshot({});
  list_->setRowCount(0);
  offerPending_ = store != nullptr;
  if (store) refresh();
  updateButtons();
}

void SweepsPane::showEvent(QShowEvent* e) {
  QWidget::showEvent(e);
  refresh();
}

void SweepsPane::refresh() {
  if (dbPath_.isEmpty()) return;
  if (watcher_.isRunning()) {
    reloadPending_ = true;
    return;
  }
  watcher_.setFuture(QtConcurrent::run(loadSweepSnapshot, dbPath_, selected_));
}

void SweepsPane::selectSweep(qint64 id) {
  selected_ = id;
  tabs_->setCurrentIndex(0);
  refresh();
}

void SweepsPane::applySnapshot() {
  const SweepSnapshot& s = snapshot_;
  if (!s.error.isEmpty()) {
    status_->setText("Cannot read the sweeps: " + s.error);
    return;
  }
  if (selected_ == 0 && !s.sweeps.empty()) {
    selected_ = s.sweeps.back().id;  // the newest, until the user picks one
    refresh();
  }
  {
    QSignalBlocker block(list_);
    list_->setRowCount(int(s.sweeps.size()));
    for (int i = 0; i < int(s.sweeps.size()); ++i) {
      const auto& r = s.sweeps[size_t(s.sweeps.size() - 1 - i)];  // newest first
      auto* id = new QTableWidgetItem(QString::number(r.id));
      id->setData(Qt::UserRole, qint64(r.id));
      list_->setItem(i, 0, id);
      list_->setItem(i, 1, new QTableWidgetItem(QString::fromStdString(r.name)));
      list_->setItem(i, 2, new QTableWidgetItem(QString::fromStdString(r.status)));
      list_->setItem(i, 3, new QTableWidgetItem(QString::number(r.points)));
      if (r.id == selected_) list_->selectRow(i);
    }
  }
  if (s.haveTable && s.table.sweep.id == selected_) {
    results_->setSnapshot(s);
    status_->setText(
        QString("Sweep %1 '%2' (%3, %4, metric %5 %6): %7")
            .arg(s.table.sweep.id)
            .arg(QString::fromStdString(s.table.sweep.name), QString::fromStdString(s.table.sweep.status),
                 QString::fromStdString(s.table.spec.method), QString::fromStdString(s.table.spec.metric),
                 QString::fromStdString(s.table.spec.goal), QString::fromStdString(s.table.summaryLine())));
  }
  bool anyRunning = !workers_.isEmpty();
  for (const auto& r : s.sweeps) anyRunning |= r.status == "running";
  if (anyRunning && !poll_.isActive()) poll_.start();
  if (!anyRunning) poll_.stop();
  updateButtons();
  emit snapshotLoaded();

  if (offerPending_) {
    offerPending_ = false;
    QList<qint64> interrupted;
    for (const auto& r : s.sweeps)
      if (r.status == "interrupted") interrupted << r.id;
    if (interrupted.isEmpty()) return;
    if (quiet_) {
      emit resumeOffered(interrupted);
      return;
    }
    const auto answer = QMessageBox::question(
        this, "Resume sweeps",
        QString("%1 sweep(s) in this database did not finish (the app was closed or the process ended): %2.\n"
                "Resume them now? Finished runs are kept; interrupted runs continue from their checkpoints.")
            .arg(interrupted.size())
            .arg([&] {
              QStringList ids;
              for (qint64 id : interrupted) ids << QString::number(id);
              return ids.join(", ");
            }()));
    if (answer == QMessageBox::Yes)
      for (qint64 id : interrupted) resumeSweep(id);
  }
}

void SweepsPane::updateButtons() {
  bool runningHere = false;
  for (auto* w : workers_) runningHere |= w->sweepId() == selected_;
  const bool have = snapshot_.haveTable && snapshot_.table.sweep.id == selected_;
  resume_->setEnabled(store_ && have && !runningHere && snapshot_.table.sweep.status != "running" &&
                      snapshot_.table.sweep.status != "finished");
  stop_->setEnabled(runningHere);
  exportCsv_->setEnabled(have);
  exportReport_->setEnabled(have);
  editor_->startButton()->setEnabled(store_ != nullptr);
}

void SweepsPane::launch(SweepWorker* w) {
  workers_ << w;
  connect(w, &SweepWorker::created, this, [this](qint64 id) {
    selected_ = id;
    tabs_->setCurrentIndex(0);
    refresh();
  });
  connect(w, &SweepWorker::pointStarted, this, [this] { refresh(); });
  connect(w, &SweepWorker::pointEnded, this,
          [this](qint64 id, int index, qint64 run, const QString& status, const QString& error) {
            emit message(QString("Sweep %1 point #%2%3: %4%5")
                             .arg(id)
                             .arg(index)
                             .arg(run > 0 ? QString(" (run %1)").arg(run) : QString(), status,
                                  error.isEmpty() ? QString() : " — " + error.left(200)));
            refresh();
          });
  connect(w, &SweepWorker::ended, this, [this, w](qint64 id, bool interrupted, const QString& error) {
    workers_.removeOne(w);
    w->deleteLater();
    if (!error.isEmpty()) {
      if (quiet_)
        emit message(error);
      else
        QMessageBox::warning(this, "Sweep", QString("Sweep %1 stopped: %2").arg(id).arg(error));
    }
    emit sweepEnded(id, interrupted, error);
    refresh();
    updateButtons();
  });
  w->start();
  poll_.start();
  updateButtons();
}

void SweepsPane::startSweep(const nlohmann::json& spec) {
  if (!store_) return;
  launch(new SweepWorker(*store_, dbPath_, spec, 0, dataDir_, this));
}

void SweepsPane::resumeSweep(qint64 id) {
  if (!store_ || id <= 0) return;
  for (auto* w : workers_)
    if (w->sweepId() == id) return;
  selected_ = id;
  launch(new SweepWorker(*store_, dbPath_, nullptr, id, dataDir_, this));
}

int SweepsPane::runningSweeps() const {
  int n = 0;
  for (auto* w : workers_) n += w->isRunning();
  return n;
}

void SweepsPane::stopAll() {
  for (auto* w : workers_) w->requestStop();
  for (auto* w : workers_) w->wait();
}

bool SweepsPane::exportReport(const QString& dir) {
  if (!snapshot_.haveTable) return false;
  const QStringList files = results_->exportFigures(dir);
  const SweepTable& t = snapshot_.table;
  QFile f(dir + "/index.html");
  if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) return false;
  QTextStream out(&f);
  auto esc = [](const std::string& s) { return QString::fromStdString(s).toHtmlEscaped(); };
  out << "<!doctype html><meta charset='utf-8'><title>Sweep " << t.sweep.id << "</title>"
      << "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px "
         "solid #ccc;"
         "padding:3px 8px}tr.best{background:#d6f0d6;font-weight:bold}img{max-width:100%}</style>"
      << "<h1>Sweep " << t.sweep.id << ": " << esc(t.sweep.name) << "</h1><p>" << esc(t.summaryLine())
      << "</p>"
      << "<p>Method " << esc(t.spec.method) << ", metric " << esc(t.spec.metric) << " (" << esc(t.spec.goal)
      << "), status " << esc(t.sweep.status)
      << ". <a href='sweep.csv'>sweep.csv</a></p><table><tr><th>point</th>"
      << "<th>run</th><th>status</th>";
  for (const auto& k : t.varied) out << "<th>" << esc(k) << "</th>";
  out << "<th>best</th><th>final</th><th>parameters</th><th>error</th></tr>";
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const auto& r = t.rows[i];
    out << "<tr" << (int(i) == t.bestRow ? " class='best'" : "") << "><td>#" << r.index << "</td><td>"
        << (r.runId > 0 ? QString::number(r.runId) : QString("-")) << "</td><td>" << esc(r.status) << "</td>";
    for (const auto& k : t.varied)
      out << "<td>" << esc(r.values.value(k, nlohmann::json()).dump()) << "</td>";
    out << "<td>" << (std::isnan(r.best) ? "" : esc(formatMetric(r.best))) << "</td><td>"
        << (std::isnan(r.final) ? "" : esc(formatMetric(r.final))) << "</td><td>" << r.parameters
        << "</td><td>" << esc(r.error) << "</td></tr>";
  }
  out << "</table>";
  for (const QString& file : files)
    if (file.endsWith(".png")) out << "<h3>" << file.toHtmlEscaped() << "</h3><img src='" << file << "'>";
  f.close();
  emit message("Wrote the sweep report to " + dir + "/index.html");
  return f.error() == QFile::NoError;
}

}  // namespace moelab::ui
