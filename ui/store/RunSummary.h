#pragma once
#include <QDateTime>
#include <QMetaType>
#include <QString>
#include <QVector>
#include <cmath>
#include <cstdint>

namespace moelab::ui {

// One row of the runs table: what the store knows about a run, as plain values.
struct RunSummary {
  int64_t id = 0;
  QString name, experiment, architecture, status, error;
  int64_t step = 0, totalSteps = 0, parameters = 0;
  double trainLoss = NAN, valLoss = NAN, bestValPerplexity = NAN, tokensPerSecond = NAN;
  QDateTime started, finished, heartbeat;
  double durationSeconds() const;
};
using RunSummaries = QVector<RunSummary>;

}  // namespace moelab::ui

Q_DECLARE_METATYPE(moelab::ui::RunSummaries)
