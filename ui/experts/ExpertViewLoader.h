#pragma once
#include <QMap>
#include <QPointF>
#include <QString>
#include <QVector>

#include "store/ExpertArtifacts.h"

namespace moelab::ui {

// What the expert views need of one run, read incrementally: artifacts after the steps already
// held and the per-layer routing metrics (moe/layer{l}/cv, ...) after the last step held.
struct ExpertViewUpdate {
  qint64 run = 0;
  QString architecture, name, status;
  ExpertArtifacts artifacts;
  QMap<QString, QVector<QPointF>> routing;  // metric key -> (step, value), newer rows only
  QString error;                            // the database could not be read (nothing else is set)
  // The rows the caller held were rewritten (a resume replaced what followed its checkpoint): this
  // update is a complete read and replaces everything held.
  bool reset = false;
  quint64 generation = 0;  // the caller's request tag, returned as given
};

struct ExpertViewCursor {  // what the caller already holds
  int64_t couplingStep = -1, countsStep = -1, routingStep = -1;
};

// The routing metrics the Routing tab charts, per layer (suffixes of moe/layer{l}/).
QStringList routingMetricNames();

// Reads through its own read-only connection: safe on a worker thread.
// Detects rewrites by reading from the held step itself: when that row is gone, it reads everything.
ExpertViewUpdate loadExpertViewUpdate(const QString& dbPath, qint64 run, const ExpertViewCursor& after,
                                      quint64 generation = 0);

}  // namespace moelab::ui
