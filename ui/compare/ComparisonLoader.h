#pragma once
#include <QList>
#include <QMap>
#include <QPointF>
#include <QString>
#include <QStringList>
#include <QVector>

#include "report/RunComparison.h"

namespace moelab::ui {

// What the compare pane shows for a set of runs: the engine's comparison table and every metric
// series of every run (key -> run label -> points by step).
struct ComparisonData {
  QList<qint64> ids;
  RunComparison table;
  QStringList keys;
  QMap<QString, QMap<QString, QVector<QPointF>>> series;
  QString error;  // set when the database could not be read (nothing else is)
};

// Reads through its own read-only connection: safe on a worker thread.
ComparisonData loadComparison(const QString& dbPath, const QList<qint64>& ids);

}  // namespace moelab::ui
