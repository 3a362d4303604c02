#include "MainWindow.h"

#include <QApplication>
#include <QCloseEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QThread>

#include "compare/ComparePane.h"
#include "data/DataMissingDialog.h"
#include "experiment/ExperimentPane.h"
#include "experts/ExpertViewsPane.h"
#include "export/ExportService.h"
#include "profile/RoutingProfilePane.h"
#include "run/RankedRunProcess.h"
#include "run/RunPage.h"
#include "run/RunWorker.h"
#include "runs/RunsPane.h"
#include "runs/RunsTableModel.h"
#include "sim/SimulatorPane.h"
#include "store/DatabaseSession.h"
#include "store/ExperimentStore.h"
#include "store/StorePoller.h"
#include "sweeps/SweepsPane.h"

namespace moelab::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle("MoE Lab");
  resize(1280, 800);
  dataDir_ = QSettings().value("dataDirectory").toString();
  exports_ = new ExportService(this);
  runsModel_ = new RunsTableModel(this);
  runsPane_ = new RunsPane(runsModel_);
  experimentPane_ = new ExperimentPane;
  runPage_ = new RunPage(exports_);
  comparePane_ = new ComparePane(exports_);
  expertViews_ = new ExpertViewsPane;
  simulatorPane_ = new SimulatorPane;
  sweepsPane_ = new SweepsPane;
  sweepsPane_->setDataDirectory(dataDir_);
  routingProfile_ = new RoutingProfilePane;
  routingProfile_->setDataDirectory(dataDir_);
  tabs_ = new QTabWidget;
  tabs_->addTab(runsPane_, "Runs");
  tabs_->addTab(experimentPane_, "Experiment");
  tabs_->addTab(runPage_, "Run");
  tabs_->addTab(comparePane_, "Compare");
  tabs_->addTab(sweepsPane_, "Sweeps");
  tabs_->addTab(expertViews_, "Experts");
  tabs_->addTab(routingProfile_, "Routing profile");
  tabs_->addTab(simulatorPane_, "Network");
  setCentralWidget(tabs_);
  status_ = new QLabel;
  statusBar()->addWidget(status_, 1);

  auto* file = menuBar()->addMenu("&File");
  file->addAction("&New database...", this, [this] {
    const QString path =
        QFileDialog::getSaveFileName(this, "New experiment database", "moelab.db", "MoE Lab database (*.db)");
    if (!path.isEmpty()) openDatabase(path);
  });
  file->addAction(
      "&Open database...", this,
      [this] {
        const QString path =
            QFileDialog::getOpenFileName(this, "Open experiment database", {}, "MoE Lab database (*.db)");
        if (!path.isEmpty()) openDatabase(path);
      },
      QKeySequence::Open);
  recent_ = file->addMenu("Open &recent");
  file->addAction("Data &folder...", this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(
        this, "Folder holding the data sets (wikitext-2/, gpt2-bpe/, ...)", dataDir_);
    if (!dir.isEmpty()) setDataDirectory(dir);
  });
  file->addSeparator();
  file->addAction("&Quit", this, &QWidget::close, QKeySequence::Quit);
  updateRecentMenu();

  connect(runsPane_, &RunsPane::runActivated, this, &MainWindow::showRun);
  connect(sweepsPane_, &SweepsPane::runActivated, this, &MainWindow::showRun);
  connect(sweepsPane_, &SweepsPane::message, this,
          [this](const QString& m) { statusBar()->showMessage(m, 15000); });
  connect(runsPane_, &RunsPane::compareRequested, this, &MainWindow::compareRuns);
  connect(runsPane_, &RunsPane::quickstartRequested, this, [this] {
    // The quickstart preset, started like any experiment: missing data brings up the fetch dialog.
    const QStringList folders = ExperimentPane::presetFolders();
    for (const QString& folder : folders)
      if (QFileInfo::exists(folder + "/quickstart.json")) {
        experimentPane_->loadFile(folder + "/quickstart.json");
        tabs_->setCurrentWidget(experimentPane_);
        experimentPane_->startButton()->click();
        return;
      }
    QMessageBox::warning(this, "Quickstart",
                         "The quickstart preset (quickstart.json) is not in any preset folder (" +
                             (folders.isEmpty() ? QString("none found") : folders.join(", ")) +
                             "). Reinstall MoE Lab, or load an experiment file in the Experiment tab.");
  });
  connect(routingProfile_, &RoutingProfilePane::simulateRequested, this,
          [this](const sim::MeasuredTraffic& traffic, const QString& what) {
            tabs_->setCurrentWidget(simulatorPane_);
            simulatorPane_->simulateMeasuredTraffic(traffic, "profile " + what);
          });
  connect(exports_, &ExportService::finished, this, [this](bool ok, const QString& message) {
    statusBar()->showMessage(message, 15000);
    if (!ok && !quiet_) QMessageBox::warning(this, "Export", message);
    emit exportFinished(ok, message);
  });
  connect(experimentPane_, &ExperimentPane::startRequested, this, &MainWindow::startRun);
  connect(runPage_, &RunPage::stopRequested, this, &MainWindow::stopRun);
  connect(runPage_, &RunPage::resumeRequested, this, &MainWindow::resumeRun);
  connect(runPage_, &RunPage::newFromRunRequested, this, [this](qint64 id) {
    if (!session_) return;
    if (auto r = session_->store().run(id)) {
      experimentPane_->setConfig(r->config, QString::fromStdString(r->experiment));
      tabs_->setCurrentWidget(experimentPane_);
    }
  });
  status_->setText("No experiment database open: File → New database or Open database.");
}

MainWindow::~MainWindow() {
  sweepsPane_->stopAll();  // its workers write through session_, which goes first
  for (auto* w : workers_) w->requestStop();
  for (auto* w : workers_) w->wait();
  stopRankedRuns();
}

bool MainWindow::openDatabase(const QString& path) {
  if (!workers_.isEmpty() || sweepsPane_->runningSweeps() > 0) {
    QMessageBox::information(this, "Open database",
                             "Stop the runs and sweeps of this database before opening another.");
    return false;
  }
  try {
    session_ = std::make_unique<DatabaseSession>(path);
  } catch (const std::exception& e) {
    const QString msg = QString("Cannot open %1: %2").arg(path, QString::fromUtf8(e.what()));
    status_->setText(msg);
    if (quiet_)
      emit runRefused(msg);
    else
      QMessageBox::warning(this, "Open database", msg);
    return false;
  }
  runsModel_->setRuns({});
  sweepsPane_->setDatabase(&session_->store(), path);
  connect(session_->poller(), &StorePoller::runsUpdated, this,
          [this](const RunSummaries& runs, bool complete) {
            if (complete)
              runsModel_->setRuns(runs);
            else
              runsModel_->mergeRuns(runs);
            for (const auto& r : runs) {
              if (r.id == runPage_->runId()) runPage_->updateSummary(r);
              // Its stamp moved: new metrics or artifacts (this process or another one).
              if (r.id == expertViews_->runId() && !complete) expertViews_->refresh();
            }
            simulatorPane_->mergeRuns(runs, complete);
            routingProfile_->mergeRuns(runs, complete);
            status_->setText(QString("%1 · %2 runs · %3 training here")
                                 .arg(session_->path())
                                 .arg(runsModel_->rowCount())
                                 .arg(liveRuns()));
          });
  connect(
      session_->poller(), &StorePoller::metricsAppended, this,
      [this](qint64 run, const QString& key, const QVector<QPointF>& byStep, const QVector<QPointF>& byTime) {
        if (run == runPage_->runId()) runPage_->appendMetrics(key, byStep, byTime);
      });
  exports_->setDatabase(session_->path());
  comparePane_->setDatabase(session_->path());
  expertViews_->setDatabase(session_->path());
  simulatorPane_->setDatabase(session_->path());
  routingProfile_->setDatabase(session_->path());
  connect(session_->poller(), &StorePoller::failed, this,
          [this](const QString& m) { status_->setText("Database: " + m); });
  session_->startPolling();
  QSettings settings;
  QStringList recent = settings.value("recentDatabases").toStringList();
  const QString absolute = QFileInfo(path).absoluteFilePath();
  recent.removeAll(absolute);
  recent.prepend(absolute);
  settings.setValue("recentDatabases", recent.mid(0, 8));
  updateRecentMenu();
  setWindowTitle("MoE Lab — " + QFileInfo(path).fileName());
  return true;
}

void MainWindow::updateRecentMenu() {
  recent_->clear();
  for (const QString& p : QSettings().value("recentDatabases").toStringList())
    recent_->addAction(p, this, [this, p] { openDatabase(p); });
  recent_->setEnabled(!recent_->isEmpty());
}

void MainWindow::onRunStarted(qint64 id) {
  if (auto* w = qobject_cast<RunWorker*>(sender())) workers_[id] = w;
  if (auto* j = qobject_cast<RankedRunProcess*>(sender())) rankedRuns_[id] = j;
  showRun(id);
}

void MainWindow::onRunProgressed(qint64 id, const TrainProgress& p) {
  if (id == runPage_->runId()) runPage_->setProgress(p);
}

void MainWindow::onRunNoticed(qint64 id, const QString& text, bool warning) {
  statusBar()->showMessage(QString("run %1: %2%3").arg(id).arg(warning ? "warning: " : "", text), 8000);
}

void MainWindow::onRunEnded(qint64 id, const QString& status, const QString& error) {
  workers_.remove(id);
  if (auto* j = rankedRuns_.take(id)) j->deleteLater();
  statusBar()->showMessage(QString("run %1 %2%3").arg(id).arg(status, error.isEmpty() ? "" : ": " + error),
                           15000);
  if (session_) session_->pollNow();
  emit runEnded(id, status);
}

void MainWindow::onRunRefused(const QString& message) {
  if (auto* j = qobject_cast<RankedRunProcess*>(sender())) j->deleteLater();
  if (quiet_)
    emit runRefused(message);
  else
    QMessageBox::warning(this, "Cannot start the run", message);
}

void MainWindow::launch(RankedRunProcess* job) {
  rankedJobs_.append(job);  // from now on, also before it has a run id
  connect(job, &RankedRunProcess::started, this, &MainWindow::onRunStarted);
  connect(job, &RankedRunProcess::progressed, this, &MainWindow::onRunProgressed);
  connect(job, &RankedRunProcess::noticed, this, &MainWindow::onRunNoticed);
  connect(job, &RankedRunProcess::ended, this, &MainWindow::onRunEnded);
  connect(job, &RankedRunProcess::refused, this, &MainWindow::onRunRefused);
  job->start();
}

void MainWindow::launch(RunWorker* worker) {
  connect(worker, &RunWorker::started, this, &MainWindow::onRunStarted);
  connect(worker, &RunWorker::progressed, this, &MainWindow::onRunProgressed);
  connect(worker, &RunWorker::noticed, this, &MainWindow::onRunNoticed);
  connect(worker, &RunWorker::ended, this, &MainWindow::onRunEnded);
  connect(worker, &RunWorker::refused, this, &MainWindow::onRunRefused);
  connect(
      worker, &RunWorker::dataMissing, this,
      [this, worker](const QString& message, const QString& folder, const QString& fetchName,
                     const QString& fetchRoot) { offerData(worker, message, folder, fetchName, fetchRoot); });
  connect(worker, &QThread::finished, worker, &QObject::deleteLater);
  worker->start();
}

void MainWindow::startRun(const nlohmann::json& config, const QString& experiment, const QString& name,
                          int ranks) {
  if (!session_) {
    QMessageBox::information(this, "Start run", "Open or create an experiment database first (File menu).");
    return;
  }
  RunRequest req;
  req.configDoc = config;
  req.experiment = experiment.toStdString();
  req.name = name.toStdString();
  req.dataDir = dataDir_.toStdString();
  // Cores are divided among the runs of this process (torch threads are per process).
  if (config.value("/train/threads"_json_pointer, 0) == 0) {
    const int share = std::max(1, QThread::idealThreadCount() / (int(workers_.size()) + 1));
    req.overrides.push_back("train.threads=" + std::to_string(share));
  }
  if (ranks > 1) {
    launch(new RankedRunProcess(session_->path(), config, experiment, name, ranks,
                                rankedThreads(config, ranks), dataDir_, this));
    return;
  }
  launch(new RunWorker(session_->store(), session_->path(), req));
}

void MainWindow::stopRankedRuns() {
  // Each job stops every rank at a step (checkpoint saved). Disconnected first: their last signals
  // must not reach a window that is closing, nor change the list being walked.
  for (const QPointer<RankedRunProcess>& job : rankedJobs_)
    if (job) {
      job->disconnect(this);
      job->requestStop();
    }
  for (const QPointer<RankedRunProcess>& job : rankedJobs_)
    if (job) job->waitForFinished(60000);
  rankedRuns_.clear();
}

int MainWindow::runRanks(qint64 runId) const {
  const auto params = session_->store().params(runId);
  return params.contains("dist.world_size")
             ? std::max(1, std::atoi(params["dist.world_size"].get<std::string>().c_str()))
             : 1;
}

int MainWindow::rankedThreads(const nlohmann::json& config, int ranks) const {
  // The ranks share this run's threads (at least one each): the config's, or this process's share.
  const int asked = config.is_object() ? int(config.value("/train/threads"_json_pointer, 0)) : 0;
  return std::max(ranks, asked > 0 ? asked : QThread::idealThreadCount() / (liveRuns() + 1));
}

void MainWindow::resumeRun(qint64 runId) {
  if (!session_ || workers_.contains(runId) || rankedRuns_.contains(runId)) return;
  // A data-parallel run resumes on as many ranks as it trained with (its checkpoint holds each).
  const int ranks = runRanks(runId);
  if (ranks > 1) {
    auto* job =
        new RankedRunProcess(session_->path(), {}, {}, {}, ranks, rankedThreads({}, ranks), dataDir_, this);
    job->setResume(runId);
    launch(job);
    return;
  }
  RunRequest req;
  req.resumeRunId = runId;
  req.dataDir = dataDir_.toStdString();
  launch(new RunWorker(session_->store(), session_->path(), req));
}

void MainWindow::offerData(RunWorker* worker, const QString& message, const QString& folder,
                           const QString& fetchName, const QString& fetchRoot) {
  RunRequest retry = worker->request();
  if (quiet_) {
    emit dataMissing(folder, fetchName, fetchRoot);
    return;
  }
  DataMissingDialog dialog(message, folder, fetchName, fetchRoot, this);
  if (dialog.exec() != QDialog::Accepted || !session_) return;
  setDataDirectory(dialog.dataDirectory());
  retry.dataDir = dataDir_.toStdString();
  launch(new RunWorker(session_->store(), session_->path(), retry));  // start again with the data in place
}

void MainWindow::setQuiet(bool q) {
  quiet_ = q;
  sweepsPane_->setQuiet(q);
}

void MainWindow::setDataDirectory(const QString& dir) {
  dataDir_ = dir;
  sweepsPane_->setDataDirectory(dir);
  routingProfile_->setDataDirectory(dir);
  QSettings().setValue("dataDirectory", dir);
}

void MainWindow::compareRuns(const QList<qint64>& runIds) {
  comparePane_->compare(runIds);
  tabs_->setCurrentWidget(comparePane_);
}

void MainWindow::stopRun(qint64 runId) {
  if (auto* w = workers_.value(runId)) w->requestStop();
  if (auto* j = rankedRuns_.value(runId)) j->requestStop();
}

void MainWindow::showRun(qint64 runId) {
  if (!session_) return;
  auto record = session_->store().run(runId);
  if (!record) return;
  runPage_->showRun(*record);
  runPage_->showAnalyses(session_->store().analyses(runId));
  expertViews_->showRun(runId);
  const int ranks = runRanks(runId);
  runPage_->setRanks(ranks);
  session_->watch(runId, RunPage::chartedKeys() + RunPage::rankKeys(ranks));
  tabs_->setCurrentWidget(runPage_);
}

void MainWindow::closeEvent(QCloseEvent* e) {
  if ((liveRuns() > 0 || sweepsPane_->runningSweeps() > 0) && !quiet_) {
    const auto answer = QMessageBox::question(
        this, "Quit MoE Lab",
        QString("%1 run(s) and %2 sweep(s) are training. Stop them (each run saves a checkpoint; sweeps are "
                "offered for resuming when this database is next opened) and quit?")
            .arg(liveRuns())
            .arg(sweepsPane_->runningSweeps()));
    if (answer != QMessageBox::Yes) {
      e->ignore();
      return;
    }
  }
  for (auto* w : workers_) w->requestStop();
  sweepsPane_->stopAll();
  for (auto* w : workers_) w->wait();
  stopRankedRuns();
  e->accept();
}

}  // namespace moelab::ui
