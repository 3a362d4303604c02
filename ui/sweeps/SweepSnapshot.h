#pragma once
#include <QMap>
#include <QPointF>
#include <QString>
#include <QVector>
#include <vector>

#include "store/ExperimentStore.h"
#include "sweep/SweepResults.h"

namespace moelab::ui {

// What the sweeps pane shows, read on a worker thread through a read-only connection: the list of
// sweeps, the selected sweep's table and each of its runs' metric curve, and every sweep's table
// (the scaling view compares architectures across sweeps).
struct SweepSnapshot {
  QString error;  // the database could not be read
  std::vector<SweepRecord> sweeps;
  qint64 selected = 0;
  bool haveTable = false;
  SweepTable table;
  QMap<int, QVector<QPointF>> curves;  // point index -> (step, metric)
  std::vector<SweepTable> all;
};

SweepSnapshot loadSweepSnapshot(const QString& dbPath, qint64 selected);

// Whether a swept parameter reads best on a log axis: log-uniform, or positive values spanning a
// decade or more (learning rates listed by hand).
bool prefersLogAxis(const SweepTable& table, const std::string& key);

}  // namespace moelab::ui
