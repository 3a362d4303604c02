#pragma once
#include <QObject>
#include <QPointF>
#include <QSet>
#include <QString>
#include <QTimer>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "store/RunSummary.h"

namespace moelab {
class ExperimentStore;
}

namespace moelab::ui {

// Reads the experiment database on its own thread through its own read-only connection, so the
// UI never waits on SQLite and runs written by other processes (`moelab-cli train --db same.db`)
// show up. About once a second, when anything was committed (PRAGMA data_version): the runs whose
// change stamp moved (all of them on the first poll), and for the runs being watched only the
// metric rows newer than those already delivered.
class StorePoller : public QObject {
  Q_OBJECT
 public:
  explicit StorePoller(QString path, int intervalMs = 1000);
  ~StorePoller() override;

 public slots:
  void start();                                // call on the poller's thread (queued)
  void pollNow();                              // one poll, at once
  void watch(qint64 run, const QString& key);  // deliver key's rows of run from now on
  void unwatchAll();

 signals:
  // complete: `runs` is the whole table (first poll, reopened file); else only changed or new runs.
  void runsUpdated(const moelab::ui::RunSummaries& runs, bool complete);
  void metricsAppended(qint64 run, const QString& key, const QVector<QPointF>& stepValue,
                       const QVector<QPointF>& timeValue);
  void failed(const QString& message);

 private:
  bool open();
  void pollRuns();
  void pollMetrics();
  QString path_;
  int intervalMs_;
  std::unique_ptr<ExperimentStore> store_;
  QTimer* timer_ = nullptr;
  std::map<std::pair<qint64, std::string>, int64_t> watched_;  // (run, key) -> last step delivered
  std::map<int64_t, std::string> stamps_;                      // run -> change stamp at the last poll
  int64_t dataVersion_ = -1;
  bool force_ = true;  // read even if data_version did not move (new watch, first poll)
  QString lastError_;
};

// Reads one summary list from a store (shared by the poller and tests).
RunSummaries readRunSummaries(const ExperimentStore& store, const std::vector<int64_t>* runs = nullptr);

}  // namespace moelab::ui
