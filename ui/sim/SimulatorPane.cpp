#include "sim/SimulatorPane.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>
#include <chrono>
#include <fstream>

#include "experiment/ExperimentPane.h"
#include "sim/Scenario.h"
#include "sim/ScenarioCsv.h"
#include "sim/ScenarioForm.h"
#include "sim/SimulationResultView.h"
#include "store/ExperimentStore.h"
#include "store/ExpertArtifacts.h"

namespace moelab::ui {
namespace {

SimulationOutcome simulate(const nlohmann::json& doc) {
  SimulationOutcome o;
  const auto start = std::chrono::steady_clock::now();
  try {
    o.result = sim::runScenario(sim::Scenario::fromJson(doc));
  } catch (const std::exception& e) {
    o.error = QString::fromUtf8(e.what());
  }
  o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return o;
}

MeasuredRouting readRouting(const QString& db, qint64 run, int64_t step) {
  MeasuredRouting r;
  r.run = run;
  r.database = db;
  try {
    ExperimentStore store(db.toStdString(), /*readOnly=*/true);
    const auto rec = store.run(run);
    if (!rec) throw std::runtime_error("run " + std::to_string(run) + " is not in this database");
    r.counts = runExpertCounts(store, run, step, &r.step);
    r.topK = int(rec->config.value("model", nlohmann::json::object()).value("top_k", 0));
  } catch (const std::exception& e) {
    r.error = QString::fromUtf8(e.what());
  }
  return r;
}

}  // namespace

SimulatorPane::SimulatorPane(QWidget* parent) : QWidget(parent) {
  form_ = new ScenarioForm;
  results_ = new SimulationResultView;
  presets_ = new QComboBox;
  presets_->addItem("Presets...");
  for (const QString& folder : ExperimentPane::presetFolders())
    for (const QFileInfo& f : QDir(folder + "/sim").entryInfoList({"*.json"}, QDir::Files, QDir::Name))
      presets_->addItem(f.completeBaseName(), f.absoluteFilePath());
  load_ = new QPushButton("Load...");
  save_ = new QPushButton("Save...");
  run_ = new QPushButton("Simulate");
  run_->setDefault(true);
  runs_ = new QComboBox;
  runs_->setMinimumContentsLength(18);
  runs_->setPlaceholderText("no sparse_moe runs");
  step_ = new QSpinBox;
  step_->setRange(-1, 1 << 30);
  step_->setSpecialValueText("latest");
  step_->setValue(-1);
  step_->setToolTip("the log step whose expert counts to use (latest: the newest stored)");
  useRouting_ = new QPushButton("Use run's routing");
  useRouting_->setToolTip(
      "Replace the traffic with the selected sparse_moe run's measured tokens per expert");
  exportButton_ = new QPushButton("Export");
  exportButton_->setEnabled(false);
  auto* menu = new QMenu(exportButton_);
  menu->addAction("Results as CSV...", this, [this] {
    const QString p = QFileDialog::getSaveFileName(this, "Export CSV", "simulation.csv", "CSV (*.csv)");
    if (!p.isEmpty() && !exportCsv(p)) showMessage("Cannot write " + p, true);
  });
  menu->addAction("Results as JSON...", this, [this] {
    const QString p = QFileDialog::getSaveFileName(this, "Export JSON", "simulation.json", "JSON (*.json)");
    if (!p.isEmpty() && !exportJson(p)) showMessage("Cannot write " + p, true);
  });
  menu->addAction("Charts as PNG (folder)...", this, [this] {
    const QString d = QFileDialog::getExistingDirectory(this, "Save charts into");
    if (!d.isEmpty() && !results_->saveChartsPng(d)) showMessage("Cannot write into " + d, true);
  });
  exportButton_->setMenu(menu);
  status_ = new QLabel;
  status_->setWordWrap(true);

  auto* bar = new QHBoxLayout;
  bar->addWidget(presets_);
  bar->addWidget(load_);
  bar->addWidget(save_);
  bar->addSpacing(16);
  bar->addWidget(new QLabel("Routing of run"));
  bar->addWidget(runs_);
  bar->addWidget(new QLabel("step"));
  bar->addWidget(step_);
  bar->addWidget(useRouting_);
  bar->addStretch(1);
  bar->addWidget(exportButton_);
  bar->addWidget(run_);
  auto* split = new QSplitter;
  split->addWidget(form_);
  split->addWidget(results_);
  split->setStretchFactor(0, 2);
  split->setStretchFactor(1, 5);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(bar);
  layout->addWidget(status_);
  layout->addWidget(split, 1);

  connect(presets_, &QComboBox::activated, this, [this](int i) {
    if (i > 0) loadScenarioFile(presets_->itemData(i).toString());
    presets_->setCurrentIndex(0);
  });
  connect(load_, &QPushButton::clicked, this, [this] {
    const QString p = QFileDialog::getOpenFileName(this, "Load scenario", {}, "Scenario JSON (*.json)");
    if (!p.isEmpty()) loadScenarioFile(p);
  });
  connect(save_, &QPushButton::clicked, this, [this] {
    const QString p =
        QFileDialog::getSaveFileName(this, "Save scenario", "scenario.json", "Scenario JSON (*.json)");
    if (p.isEmpty()) return;
    std::ofstream out(p.toStdString());
    out << form_->config().dump(2) << "\n";
    showMessage(out ? "Saved " + p : "Cannot write " + p, !out);
  });
  connect(run_, &QPushButton::clicked, this, &SimulatorPane::run);
  connect(form_, &SchemaForm::validityChanged, run_, &QPushButton::setEnabled);
  connect(form_, &SchemaForm::configChanged, this, [this] {
    QSettings().setValue("simulator/scenario", QString::fromStdString(form_->config().dump()));
  });
  connect(useRouting_, &QPushButton::clicked, this, [this] {
    if (runs_->currentIndex() >= 0) useRunRouting(runs_->currentData().toLongLong(), step_->value());
  });
  connect(&simWatcher_, &QFutureWatcher<SimulationOutcome>::finished, this,
          [this] { finished(simWatcher_.result()); });
  connect(&routingWatcher_, &QFutureWatcher<MeasuredRouting>::finished, this,
          [this] { applyRouting(routingWatcher_.result()); });
  useRouting_->setEnabled(false);

  // The scenario of the last session, when it still validates; else the defaults.
  const QString saved = QSettings().value("simulator/scenario").toString();
  if (!saved.isEmpty()) {
    try {
      form_->setConfig(nlohmann::json::parse(saved.toStdString()));
    } catch (const std::exception&) {
      form_->setConfig(nlohmann::json::object());
    }
  }
}

void SimulatorPane::setDatabase(const QString& path) {
  dbPath_ = path;
  sparseRuns_.clear();
  runs_->clear();
  useRouting_->setEnabled(false);
}

void SimulatorPane::mergeRuns(const RunSummaries& runs, bool complete) {
  if (complete) sparseRuns_.clear();
  for (const auto& r : runs)
    if (r.architecture == "sparse_moe") sparseRuns_[r.id] = QString("run %1 · %2").arg(r.id).arg(r.name);
  const qint64 current = runs_->currentData().toLongLong();
  const QSignalBlocker block(runs_);
  runs_->clear();
  for (auto it = sparseRuns_.begin(); it != sparseRuns_.end(); ++it) runs_->addItem(it.value(), it.key());
  const int at = runs_->findData(current);
  runs_->setCurrentIndex(at >= 0 ? at : runs_->count() - 1);
  useRouting_->setEnabled(runs_->count() > 0 && !dbPath_.isEmpty());
}

bool SimulatorPane::loadScenarioFile(const QString& path) {
  try {
    // The file's own validation first, so its mistakes are named with the file.
    form_->setConfig(sim::Scenario::schema().readDocument(path.toStdString(), {}));
    showMessage("Loaded " + QFileInfo(path).fileName(), false);
    return true;
  } catch (const std::exception& e) {
    showMessage(QString::fromUtf8(e.what()), true);
    return false;
  }
}

void SimulatorPane::run() {
  if (!form_->isValid()) {
    showMessage(form_->error(), true);
    emit simulated(false, form_->error());
    return;
  }
  if (simWatcher_.isRunning()) {
    again_ = true;  // the form changed while simulating: simulate the newest scenario next
    return;
  }
  status_->setText("Simulating...");
  run_->setEnabled(false);
  simWatcher_.setFuture(QtConcurrent::run(simulate, form_->config()));
}

void SimulatorPane::finished(const SimulationOutcome& o) {
  run_->setEnabled(form_->isValid());
  if (!o.error.isEmpty()) {
    showMessage("Simulation failed: " + o.error, true);
    emit simulated(false, o.error);
  } else {
    result_ = o.result;
    results_->setResult(result_);
    exportButton_->setEnabled(true);
    QString msg = QString("Simulated %1 GPUs × %2 steps in %3 ms (worker thread)")
                      .arg(result_.at("gpus").get<int>())
                      .arg(result_.at("scenario").at("sim").at("steps").get<int>())
                      .arg(o.seconds * 1e3, 0, 'f', 1);
    if (const int sources = result_.value("traffic_sources", 1); sources > 1)
      msg += QString("; traffic routed per source shard (%1 shards)").arg(sources);
    showMessage(msg, false);
    emit simulated(true, msg);
  }
  if (again_) {
    again_ = false;
    run();
  }
}

void SimulatorPane::useRunRouting(qint64 run, int64_t step) {
  if (dbPath_.isEmpty()) return;
  status_->setText(QString("Reading run %1's expert counts...").arg(run));
  routingWatcher_.setFuture(QtConcurrent::run(readRouting, dbPath_, run, step));
}

void SimulatorPane::applyRouting(const MeasuredRouting& r) {
  if (r.database != dbPath_) return;  // read from a database that is no longer open
  if (!r.error.isEmpty()) {
    showMessage(r.error, true);
    emit routingLoaded(false, r.error);
    return;
  }
  QString msg;
  const bool ok = useTraffic({r.counts, {}, r.topK},
                             QString("run %1's expert counts at step %2").arg(r.run).arg(r.step), msg);
  emit routingLoaded(ok, msg);
  if (ok) run();
}

bool SimulatorPane::simulateMeasuredTraffic(const sim::MeasuredTraffic& traffic, const QString& what) {
  QString msg;
  const bool ok = useTraffic(traffic, what, msg);
  if (ok) run();
  return ok;
}

bool SimulatorPane::useTraffic(const sim::MeasuredTraffic& traffic, const QString& what, QString& msg) {
  int gpus = 0, topK = 0;
  try {
    const auto doc = sim::withMeasuredTraffic(form_->config(), traffic);
    const sim::Scenario checked = sim::Scenario::fromJson(doc);  // names a bad shard before the form takes it
    gpus = checked.cluster.gpus();
    topK = checked.topK;
    form_->setConfig(doc);
  } catch (const std::exception& e) {
    msg = QString::fromUtf8(e.what());
    showMessage(msg, true);
    return false;
  }
  msg = QString("Traffic: %1 (%2 MoE layers × %3 experts, top-%4%5)")
            .arg(what)
            .arg(traffic.counts.size())
            .arg(traffic.counts.front().size())
            .arg(topK)
            .arg(QString::fromStdString(sim::sourcesNote(traffic, gpus)));
  showMessage(msg, false);
  return true;
}

bool SimulatorPane::exportCsv(const QString& path) const {
  if (result_.is_null()) return false;
  std::ofstream out(path.toStdString());
  if (!out) return false;
  sim::writeComparisonCsv(out, result_);
  return bool(out);
}

bool SimulatorPane::exportJson(const QString& path) const {
  if (result_.is_null()) return false;
  std::ofstream out(path.toStdString());
  out << result_.dump(2) << "\n";
  return bool(out);
}

void SimulatorPane::showMessage(const QString& text, bool error) {
  status_->setStyleSheet(error ? "color: #c01c28;" : "");
  status_->setText(text);
}

}  // namespace moelab::ui
