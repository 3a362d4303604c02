#include "store/StorePoller.h"

#include <QThread>
#include <filesystem>

#include "store/ExperimentStore.h"

namespace moelab::ui {

double RunSummary::durationSeconds() const {
  if (!started.isValid()) return NAN;
  const QDateTime end = finished.isValid() ? finished : heartbeat.isValid() ? heartbeat : started;
  return double(started.secsTo(end));
}

namespace {
QDateTime parseTime(const std::string& iso) {
  return iso.empty() ? QDateTime() : QDateTime::fromString(QString::fromStdString(iso), Qt::ISODate);
}
double valueOr(const std::map<std::string, double>& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? NAN : it->second;
}
}  // namespace

RunSummaries readRunSummaries(const ExperimentStore& store, const std::vector<int64_t>* runs) {
  const auto latest = store.latestValues({"train/loss", "val/loss", "train/tokens_per_sec"}, runs);
  const auto best = store.minimumValues("val/perplexity", runs);
  const auto plans = store.latestArtifacts("plan", runs);
  RunSummaries out;
  for (const auto& r : runs ? store.listRuns(*runs) : store.listRuns()) {
    RunSummary s;
    s.id = r.id;
    s.name = QString::fromStdString(r.name);
    s.experiment = QString::fromStdString(r.experiment);
    s.architecture =
        QString::fromStdString(r.config.value("/model/architecture"_json_pointer, std::string()));
    s.status = QString::fromStdString(r.status);
    s.error = QString::fromStdString(r.error);
    s.step = r.step;
    if (auto it = plans.find(r.id); it != plans.end() && it->second.is_object()) {
      s.totalSteps = it->second.value("total_steps", int64_t(0));
      s.parameters = it->second.value("parameters", int64_t(0));
    }
    if (auto it = latest.find(r.id); it != latest.end()) {
      s.trainLoss = valueOr(it->second, "train/loss");
      s.valLoss = valueOr(it->second, "val/loss");
      s.tokensPerSecond = valueOr(it->second, "train/tokens_per_sec");
    }
    if (auto it = best.find(r.id); it != best.end()) s.bestValPerplexity = it->second;
    s.started = parseTime(r.startedAt.empty() ? r.createdAt : r.startedAt);
    s.finished = parseTime(r.finishedAt);
    s.heartbeat = parseTime(r.heartbeatAt);
    out.push_back(std::move(s));
  }
  return out;
}

StorePoller::StorePoller(QString path, int intervalMs) : path_(std::move(path)), intervalMs_(intervalMs) {}

StorePoller::~StorePoller() = default;

void StorePoller::start() {
  timer_ = new QTimer(this);
  timer_->setInterval(intervalMs_);
  connect(timer_, &QTimer::timeout, this, &StorePoller::pollNow);
  timer_->start();
  pollNow();
}

bool StorePoller::open() {
  if (store_) return true;
  if (!std::filesystem::exists(path_.toStdString())) return false;  // not created yet
  store_ = std::make_unique<ExperimentStore>(path_.toStdString(), /*readOnly=*/true);
  return true;
}

void StorePoller::watch(qint64 run, const QString& key) {
  watched_.emplace(std::make_pair(run, key.toStdString()), std::numeric_limits<int64_t>::min());
  force_ = true;
}

void StorePoller::unwatchAll() {
  watched_.clear();
}

void StorePoller::pollNow() {
  try {
    if (!open()) return;
    // Nothing committed since the last poll: nothing to read (the common case for an idle file).
    const int64_t version = store_->dataVersion();
    if (version == dataVersion_ && !force_) return;
    dataVersion_ = version;
    force_ = false;
    pollRuns();
    pollMetrics();
    lastError_.clear();
  } catch (const std::exception& e) {
    // Reported once per distinct problem; polling goes on (the file may come back).
    if (lastError_ != e.what()) emit failed(lastError_ = e.what());
    store_.reset();
    stamps_.clear();
    dataVersion_ = -1;
  }
}

void StorePoller::pollRuns() {
  // Only runs whose stamp changed (or that are new) are read in full.
  auto stamps = store_->runStamps();
  const bool complete = stamps_.empty() || stamps.size() < stamps_.size();  // first poll, or a new file
  std::vector<int64_t> changed;
  for (const auto& [id, stamp] : stamps) {
    auto it = stamps_.find(id);
    if (complete || it == stamps_.end() || it->second != stamp) changed.push_back(id);
  }
  stamps_ = std::move(stamps);
  if (complete)
    emit runsUpdated(readRunSummaries(*store_), true);
  else if (!changed.empty())
    emit runsUpdated(readRunSummaries(*store_, &changed), false);
}

void StorePoller::pollMetrics() {
  for (auto& [what, lastStep] : watched_) {
    auto rows = store_->metricsAfter(what.first, what.second, lastStep);
    if (rows.empty()) continue;
    QVector<QPointF> byStep, byTime;
    byStep.reserve(qsizetype(rows.size()));
    byTime.reserve(qsizetype(rows.size()));
    for (const auto& m : rows) {
      byStep.push_back({double(m.step), m.value});
      byTime.push_back({m.wallTime, m.value});
    }
    lastStep = rows.back().step;
    emit metricsAppended(what.first, QString::fromStdString(what.second), byStep, byTime);
  }
}

}  // namespace moelab::ui
