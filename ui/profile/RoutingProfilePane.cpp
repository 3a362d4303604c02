#include "profile/RoutingProfilePane.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QtConcurrent>
#include <cmath>
#include <fstream>

#include "profile/ProfileTask.h"
#include "profile/ReassignmentCsv.h"
#include "profile/ReassignmentView.h"
#include "profile/RoutingProfile.h"
#include "profile/RoutingProfileView.h"

namespace moelab::ui {
namespace {

QString fixedOrDash(const nlohmann::json& j, const char* key, int digits) {
  return j.contains(key) && j[key].is_number() ? QString::number(j[key].get<double>(), 'f', digits) : "—";
}

bool writeText(const QString& path, const std::function<void(std::ostream&)>& write) {
  std::ofstream out(path.toStdString());
  if (!out) return false;
  try {
    write(out);
  } catch (const std::exception&) {  // a malformed stored table: the export fails, the app stays
    return false;
  }
  return bool(out);
}

}  // namespace

struct RoutingProfilePane::JobInputs {
  ProfileJobRequest request;
  QString what;
};

RoutingProfilePane::RoutingProfilePane(QWidget* parent) : QWidget(parent) {
  task_ = new ProfileTask(this);
  runs_ = new QComboBox;
  runs_->setMinimumContentsLength(24);
  runs_->setToolTip("A trained sparse_moe or gnn_moe run of this database (its checkpoint is profiled)");
  which_ = new QComboBox;
  which_->addItems({"best", "last"});
  which_->setToolTip("best.pt (lowest validation loss) or last.pt");
  source_ = new QComboBox;
  source_->addItems({"valid", "test", "train", "file"});
  source_->setToolTip("A split of the run's own data set, or any .txt / .jsonl file");
  file_ = new QLineEdit;
  file_->setPlaceholderText("text or jsonl file");
  file_->setEnabled(false);
  browse_ = new QPushButton("Browse…");
  browse_->setEnabled(false);
  connect(source_, &QComboBox::currentTextChanged, this, [this](const QString& s) {
    file_->setEnabled(s == "file");
    browse_->setEnabled(s == "file");
  });
  connect(browse_, &QPushButton::clicked, this, [this] {
    const QString path =
        QFileDialog::getOpenFileName(this, "Text to profile", {}, "Text (*.txt *.jsonl *.raw)");
    if (!path.isEmpty()) file_->setText(path);
  });
  strategy_ = new QComboBox;
  strategy_->setEditable(true);
  strategy_->addItems({"none", "balanced", "round_robin", "random", "topk_filtered", "temperature"});
  strategy_->setToolTip(
      "Route with a reassignment strategy instead of the trained top-k (sparse_moe); "
      "parameters as in the CLI: random:SEED, topk_filtered:M, temperature:T");
  shards_ = new QSpinBox;
  shards_->setRange(0, 4096);
  shards_->setSpecialValueText("no");
  shards_->setToolTip("Split counts by data-parallel source shard (sample i from shard i mod G)");
  positions_ = new QSpinBox;
  positions_->setRange(0, 64);
  positions_->setSpecialValueText("no");
  positions_->setToolTip("Split counts into this many equal spans of the context");
  samples_ = new QSpinBox;
  samples_->setRange(-1, 10'000'000);
  samples_->setValue(-1);
  samples_->setSpecialValueText("as configured");
  samples_->setToolTip("Samples to profile: 0 = the whole text, -1 = the run's data.num_eval_samples");
  batch_ = new QSpinBox;
  batch_->setRange(0, 4096);
  batch_->setSpecialValueText("auto");
  batch_->setToolTip("Sequences per forward pass (auto: 16,384 tokens, at least the run's train.batch_size)");
  perplexity_ = new QCheckBox("Perplexity");
  perplexity_->setToolTip(
      "Also score the text: runs the LM head, which costs most of the time with a 50k vocabulary");
  profile_ = new QPushButton("Profile");
  cancel_ = new QPushButton("Cancel");
  cancel_->setEnabled(false);
  progress_ = new QProgressBar;
  progress_->setRange(0, 1);
  progress_->setValue(0);
  progress_->setMaximumWidth(220);
  status_ = new QLabel;
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  auto* row1 = new QHBoxLayout;
  for (auto [label, w] : std::initializer_list<std::pair<const char*, QWidget*>>{
           {"Run", runs_}, {"Weights", which_}, {"Text", source_}}) {
    row1->addWidget(new QLabel(label));
    row1->addWidget(w);
  }
  row1->addWidget(file_, 1);
  row1->addWidget(browse_);
  auto* row2 = new QHBoxLayout;
  for (auto [label, w] :
       std::initializer_list<std::pair<const char*, QWidget*>>{{"Strategy", strategy_},
                                                               {"Shards", shards_},
                                                               {"Position buckets", positions_},
                                                               {"Samples", samples_},
                                                               {"Batch", batch_}}) {
    row2->addWidget(new QLabel(label));
    row2->addWidget(w);
  }
  row2->addWidget(perplexity_);
  row2->addStretch(1);
  row2->addWidget(profile_);
  row2->addWidget(cancel_);
  row2->addWidget(progress_);

  stored_ = new QTableWidget(0, 6);
  stored_->setHorizontalHeaderLabels({"#", "run", "text", "strategy", "Gini", "ppl"});
  stored_->verticalHeader()->hide();
  stored_->setSelectionBehavior(QAbstractItemView::SelectRows);
  stored_->setSelectionMode(QAbstractItemView::SingleSelection);
  stored_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  stored_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  stored_->horizontalHeader()->setStretchLastSection(true);
  stored_->setToolTip("Routing profiles stored in this database (moelab-cli profile stores them too)");
  connect(stored_, &QTableWidget::itemSelectionChanged, this, [this] {
    const auto rows = stored_->selectionModel()->selectedRows();
    if (rows.isEmpty()) return;
    if (auto* a = findProfile(stored_->item(rows.front().row(), 0)->data(Qt::UserRole).toLongLong()))
      showInView(left_, *a);
  });
  compare_ = new QComboBox;
  compare_->setMinimumContentsLength(30);
  compare_->setToolTip(
      "Draw a second profile beside the selected one (two runs, or before and after "
      "fine-tuning); both heatmaps share one colour range");
  connect(compare_, &QComboBox::currentIndexChanged, this,
          [this] { compareWith(compare_->currentData().toLongLong()); });

  left_ = new RoutingProfileView;
  right_ = new RoutingProfileView;
  right_->hide();
  auto* sideBySide = new QSplitter(Qt::Horizontal);
  sideBySide->addWidget(left_);
  sideBySide->addWidget(right_);
  auto* profileTab = new QWidget;
  auto* profileLayout = new QVBoxLayout(profileTab);
  auto* compareRow = new QHBoxLayout;
  compareRow->addWidget(new QLabel("Side by side with"));
  compareRow->addWidget(compare_);
  compareRow->addStretch(1);
  simulate_ = new QPushButton("Simulate this profile");
  simulate_->setToolTip("Its per-layer expert loads become the network simulator's traffic");
  simulate_->setEnabled(false);
  connect(simulate_, &QPushButton::clicked, this, &RoutingProfilePane::simulateShown);
  compareRow->addWidget(simulate_);
  for (auto [label, kind] : {std::pair{"PNG…", 0}, std::pair{"JSON…", 1}, std::pair{"CSV…", 2}}) {
    auto* b = new QPushButton("Export " + QString(label));
    connect(b, &QPushButton::clicked, this, [this, kind = kind] {
      const bool table = tabs_->currentIndex() == 1;
      const QString filter = kind == 0 ? "PNG image (*.png)" : kind == 1 ? "JSON (*.json)" : "CSV (*.csv)";
      const QString ext = kind == 0 ? ".png" : kind == 1 ? ".json" : ".csv";
      const QString path = QFileDialog::getSaveFileName(
          this, "Export", (table ? "reassignment" : "routing-profile") + ext, filter);
      if (path.isEmpty()) return;
      const bool ok = kind == 0 ? exportPng(path) : kind == 1 ? exportJson(path) : exportCsv(path);
      showMessage(ok ? "Saved " + path
                     : "Could not write " + path + " (nothing shown, or the folder is not writable)",
                  !ok);
    });
    compareRow->addWidget(b);
  }
  profileLayout->addLayout(compareRow);
  profileLayout->addWidget(sideBySide, 1);

  reassign_ = new ReassignmentView;
  storedTables_ = new QComboBox;
  storedTables_->setMinimumContentsLength(30);
  connect(storedTables_, &QComboBox::currentIndexChanged, this, &RoutingProfilePane::showStoredTable);
  connect(reassign_, &ReassignmentView::runRequested, this, &RoutingProfilePane::startReassignment);
  auto* tableTab = new QWidget;
  auto* tableLayout = new QVBoxLayout(tableTab);
  auto* tableRow = new QHBoxLayout;
  tableRow->addWidget(new QLabel("Stored comparisons"));
  tableRow->addWidget(storedTables_);
  tableRow->addStretch(1);
  tableLayout->addLayout(tableRow);
  tableLayout->addWidget(reassign_, 1);

  tabs_ = new QTabWidget;
  tabs_->addTab(profileTab, "Profile");
  tabs_->addTab(tableTab, "Reassignment");
  auto* split = new QSplitter(Qt::Horizontal);
  split->addWidget(stored_);
  split->addWidget(tabs_);
  split->setStretchFactor(1, 1);
  split->setSizes({300, 980});

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(row1);
  layout->addLayout(row2);
  layout->addWidget(status_);
  layout->addWidget(split, 1);

  connect(profile_, &QPushButton::clicked, this, &RoutingProfilePane::startProfile);
  connect(cancel_, &QPushButton::clicked, this, &RoutingProfilePane::cancel);
  connect(task_, &ProfileTask::progressed, this, [this](qint64 done, qint64 total) {
    progress_->setRange(0, int(std::min<qint64>(total, 1'000'000'000)));
    progress_->setValue(int(done));
  });
  connect(task_, &ProfileTask::finished, this, &RoutingProfilePane::finished);
  connect(&reader_, &QFutureWatcher<StoredAnalyses>::finished, this,
          [this] { storedRead(reader_.result()); });
  setBusy(false);
  showMessage("Open a database with a trained sparse_moe or gnn_moe run to profile its routing.", false);
}

RoutingProfilePane::~RoutingProfilePane() {
  reader_.waitForFinished();
}

void RoutingProfilePane::setDatabase(const QString& path) {
  dbPath_ = path;
  runsById_.clear();
  runs_->clear();
  analyses_ = {};
  stored_->setRowCount(0);
  left_->clear("No profile selected: run one with Profile, or pick a stored one.");
  leftId_ = 0;
  leftContent_ = nlohmann::json();
  selectAfterRead_ = tableAfterRead_ = 0;
  right_->hide();
  {
    const QSignalBlocker a(compare_), b(storedTables_);
    compare_->clear();
    storedTables_->clear();
  }
  simulate_->setEnabled(false);
  reassign_->clear("Pick a run above and Compare strategies, or select a stored comparison.");
  updateButtons();
  refreshStored();
}

void RoutingProfilePane::mergeRuns(const RunSummaries& runs, bool complete) {
  if (complete) runsById_.clear();
  for (const auto& r : runs)
    if (r.architecture == "sparse_moe" || r.architecture == "gnn_moe") runsById_[r.id] = r;
  const qint64 current = runs_->currentData().toLongLong();
  const QSignalBlocker block(runs_);
  runs_->clear();
  for (const auto& r : runsById_)
    runs_->addItem(QString("run %1 · %2 (%3)").arg(r.id).arg(r.name, r.architecture), qint64(r.id));
  const int at = runs_->findData(current);
  runs_->setCurrentIndex(at >= 0 ? at : runs_->count() - 1);
  updateButtons();
}

void RoutingProfilePane::showEvent(QShowEvent* e) {
  QWidget::showEvent(e);
  refreshStored();
}

void RoutingProfilePane::refreshStored() {
  if (dbPath_.isEmpty()) return;
  if (reader_.isRunning()) {
    readAgain_ = true;
    return;
  }
  reader_.setFuture(QtConcurrent::run(readStoredAnalyses, dbPath_));
}

void RoutingProfilePane::storedRead(const StoredAnalyses& a) {
  if (readAgain_) {
    readAgain_ = false;
    refreshStored();
    return;
  }
  if (a.database != dbPath_) return;  // read from a database that is no longer open
  if (!a.error.isEmpty()) {
    showMessage("Stored profiles: " + a.error, true);
    emit storedLoaded(int(analyses_.profiles.size()));
    return;
  }
  analyses_ = a;
  {
    const QSignalBlocker block(stored_);
    stored_->setRowCount(int(a.profiles.size()));
    for (int i = 0; i < int(a.profiles.size()); ++i) {
      const auto& p = a.profiles[i];
      const auto& c = p.content;
      const QStringList cells = {QString::number(p.id),
                                 QString("%1 %2").arg(p.run).arg(p.runName),
                                 QString::fromStdString(c.value("source", std::string())),
                                 QString::fromStdString(c.value("strategy", std::string("none"))),
                                 c.contains("mean") ? fixedOrDash(c["mean"], "gini", 3) : "—",
                                 fixedOrDash(c, "perplexity", 2)};
      for (int col = 0; col < cells.size(); ++col) {
        auto* item = new QTableWidgetItem(cells[col]);
        item->setData(Qt::UserRole, p.id);
        item->setToolTip(p.title() + " · " + p.created);
        stored_->setItem(i, col, item);
      }
    }
  }
  {
    const qint64 current = compare_->currentData().toLongLong();
    const QSignalBlocker block(compare_);
    compare_->clear();
    compare_->addItem("none", qint64(0));
    for (const auto& p : a.profiles) compare_->addItem(p.title(), p.id);
    compare_->setCurrentIndex(std::max(0, compare_->findData(current)));
  }
  {
    const qint64 current = tableAfterRead_ ? tableAfterRead_ : storedTables_->currentData().toLongLong();
    const QSignalBlocker block(storedTables_);
    storedTables_->clear();
    for (const auto& t : a.reassignments) storedTables_->addItem(t.title(), t.id);
    const int at = storedTables_->findData(current);
    storedTables_->setCurrentIndex(at >= 0 ? at : storedTables_->count() - 1);
    tableAfterRead_ = 0;
  }
  if (reassign_->shown().is_null() && storedTables_->count() > 0)
    showStoredTable(storedTables_->currentIndex());
  // Keep showing what was shown; a profile just made is selected; otherwise the newest.
  const qint64 want = selectAfterRead_       ? selectAfterRead_
                      : leftId_              ? leftId_
                      : a.profiles.isEmpty() ? 0
                                             : a.profiles.back().id;
  selectAfterRead_ = 0;
  if (want) selectProfile(want);
  emit storedLoaded(int(a.profiles.size()));
}

const StoredAnalysis* RoutingProfilePane::findProfile(qint64 id) const {
  for (const auto& p : analyses_.profiles)
    if (p.id == id) return &p;
  return nullptr;
}

void RoutingProfilePane::showInView(RoutingProfileView* view, const StoredAnalysis& a) {
  if (view == left_) {
    leftId_ = a.id;
    leftContent_ = a.content;
  }
  try {
    view->setProfile(RoutingProfile::fromJson(a.content), a.title());
  } catch (const std::exception& e) {
    view->clear(QString("Profile #%1 cannot be read: %2").arg(a.id).arg(QString::fromUtf8(e.what())));
  }
  if (!right_->isHidden() && !left_->empty() && !right_->empty()) {
    const double m = std::max(left_->deviationMagnitude(), right_->deviationMagnitude());
    left_->setColourMagnitude(m);
    right_->setColourMagnitude(m);
  }
  simulate_->setEnabled(!left_->empty() && !left_->profile().layers.empty());
}

bool RoutingProfilePane::selectProfile(qint64 id) {
  for (int r = 0; r < stored_->rowCount(); ++r)
    if (stored_->item(r, 0)->data(Qt::UserRole).toLongLong() == id) {
      stored_->selectRow(r);
      if (auto* a = findProfile(id)) showInView(left_, *a);
      return true;
    }
  return false;
}

bool RoutingProfilePane::compareWith(qint64 id) {
  const StoredAnalysis* a = id ? findProfile(id) : nullptr;
  if (!a) {
    const QSignalBlocker block(compare_);
    compare_->setCurrentIndex(0);
    right_->hide();
    right_->clear({});
    if (!left_->empty()) left_->setColourMagnitude(left_->deviationMagnitude());
    return id == 0;
  }
  {
    const QSignalBlocker block(compare_);
    compare_->setCurrentIndex(compare_->findData(id));
  }
  right_->show();
  showInView(right_, *a);
  return true;
}

void RoutingProfilePane::showStoredTable(int index) {
  if (index < 0 || index >= analyses_.reassignments.size()) return;
  const auto& t = analyses_.reassignments[index];
  reassign_->showTable(t.content, t.title());
}

bool RoutingProfilePane::prepare(JobInputs& in) {
  if (task_->running()) {
    showMessage("A profile is already running: wait for it or Cancel it.", true);
    return false;
  }
  if (dbPath_.isEmpty() || runs_->currentIndex() < 0) {
    showMessage("No trained sparse_moe or gnn_moe run to profile: train one first (Experiment tab).", true);
    return false;
  }
  ProfileJobRequest& r = in.request;
  r.database = dbPath_.toStdString();
  r.run = runs_->currentData().toLongLong();
  r.which = which_->currentText().toStdString();
  if (source_->currentText() == "file") {
    if (file_->text().trimmed().isEmpty()) {
      showMessage("Choose the text file to profile (Browse…), or pick a split.", true);
      return false;
    }
    r.file = file_->text().trimmed().toStdString();
  } else {
    r.split = source_->currentText().toStdString();
  }
  r.dataDir = dataDir_.toStdString();
  r.maxSamples = samples_->value();
  r.batchSize = batch_->value();
  in.what = QString("run %1 (%2)")
                .arg(r.run)
                .arg(source_->currentText() == "file" ? file_->text() : source_->currentText());
  return true;
}

bool RoutingProfilePane::startProfile() {
  JobInputs in;
  if (!prepare(in)) return false;
  in.request.strategy = strategy_->currentText().trimmed().toStdString();
  in.request.shards = shards_->value();
  in.request.positionBuckets = positions_->value();
  in.request.measureLoss = perplexity_->isChecked();
  task_->startProfile(in.request);
  jobRun_ = in.request.run;
  jobDatabase_ = dbPath_;
  setBusy(true);
  showMessage("Profiling " + in.what + "…", false);
  return true;
}

bool RoutingProfilePane::startReassignment() {
  JobInputs in;
  if (!prepare(in)) return false;
  const auto strategies = reassign_->strategies();
  if (strategies.empty()) {
    showMessage("Tick at least one reassignment strategy to compare with top-k.", true);
    return false;
  }
  tabs_->setCurrentIndex(1);
  task_->startReassignment(in.request, strategies, reassign_->scenarioDoc());
  jobRun_ = in.request.run;
  jobDatabase_ = dbPath_;
  setBusy(true);
  showMessage(QString("Comparing %1 strategies with top-k on %2…").arg(strategies.size()).arg(in.what),
              false);
  return true;
}

void RoutingProfilePane::cancel() {
  task_->cancel();
  showMessage("Cancelling at the next batch…", false);
}

void RoutingProfilePane::finished(const ProfileTaskOutcome& o) {
  setBusy(false);
  if (o.cancelled) {
    showMessage("Cancelled; nothing was stored.", false);
    emit jobFinished(false, "cancelled");
    return;
  }
  if (!o.error.isEmpty()) {
    showMessage(o.error, true);
    emit jobFinished(false, o.error);
    return;
  }
  if (jobDatabase_ != dbPath_) {  // another database was opened meanwhile: the result is stored in its own
    showMessage("A profile of " + jobDatabase_ + " finished and was stored there.", false);
    emit jobFinished(true, "stored in " + jobDatabase_);
    return;
  }
  QString msg;
  if (o.kind == "profile") {
    const qint64 id = o.result.value("profile_id", int64_t(0));
    StoredAnalysis shown{
        id, jobRun_, runsById_.value(jobRun_).name, {}, QString::fromStdString(profileLabel(o.result)),
        {}, o.result};
    showInView(left_, shown);
    selectAfterRead_ = id;
    msg = QString("Profiled %1 samples in %2 s; stored as profile #%3")
              .arg(o.result.value("samples", 0))
              .arg(o.seconds, 0, 'f', 1)
              .arg(id);
  } else {
    tableAfterRead_ = o.result.value("reassignment_id", int64_t(0));
    reassign_->showTable(o.result, QString("#%1").arg(tableAfterRead_));
    msg = QString("Compared %1 routings in %2 s; stored as comparison #%3")
              .arg(o.result["rows"].size())
              .arg(o.seconds, 0, 'f', 1)
              .arg(tableAfterRead_);
  }
  showMessage(msg, false);
  refreshStored();
  emit jobFinished(true, msg);
}

void RoutingProfilePane::simulateShown() {
  if (left_->empty() || left_->profile().layers.empty()) {
    showMessage("Only a sparse_moe profile has per-expert token counts to simulate.", true);
    return;
  }
  const auto& p = left_->profile();
  emit simulateRequested(p.traffic(), left_->titleLabel()->text());
}

bool RoutingProfilePane::exportJson(const QString& path) const {
  const bool table = tabs_->currentIndex() == 1;
  if (table ? reassign_->shown().is_null() : left_->empty()) return false;
  const nlohmann::json doc = table ? reassign_->shown() : leftContent_;
  return writeText(path, [&](std::ostream& out) { out << doc.dump(2) << "\n"; });
}

bool RoutingProfilePane::exportCsv(const QString& path) const {
  if (tabs_->currentIndex() == 1) {
    if (reassign_->shown().is_null()) return false;
    return writeText(path, [&](std::ostream& out) { writeReassignmentCsv(out, reassign_->shown()); });
  }
  if (left_->empty()) return false;
  return writeText(path, [&](std::ostream& out) { left_->profile().writeCsv(out); });
}

bool RoutingProfilePane::exportPng(const QString& path) const {
  const bool table = tabs_->currentIndex() == 1;
  if (table ? reassign_->shown().is_null() : left_->empty()) return false;
  QWidget* what = table ? static_cast<QWidget*>(reassign_) : left_->parentWidget();
  return what->grab().save(path, "PNG");
}

void RoutingProfilePane::updateButtons() {
  const bool busy = task_->running();
  profile_->setEnabled(!busy && runs_->count() > 0);
  reassign_->setBusy(busy || runs_->count() == 0);
  cancel_->setEnabled(busy);
}

void RoutingProfilePane::setBusy(bool busy) {
  updateButtons();
  if (busy) {
    progress_->setRange(0, 0);  // until the first batch reports
  } else {
    progress_->setRange(0, 1);
    progress_->setValue(0);
  }
}

void RoutingProfilePane::showMessage(const QString& text, bool error) {
  status_->setText(text);
  status_->setStyleSheet(error ? "color: #b00020" : "");
}

}  // namespace moelab::ui
