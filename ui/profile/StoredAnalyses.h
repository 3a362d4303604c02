#pragma once
#include <QString>
#include <QVector>
#include <nlohmann/json.hpp>

namespace moelab::ui {

// One analysis the database holds of a run (a routing profile or a reassignment table).
struct StoredAnalysis {
  qint64 id = 0, run = 0;
  QString runName, architecture, label, created;
  nlohmann::json content;
  QString title() const;  // "#7 · run 3 (name) · valid none"
};

struct StoredAnalyses {
  QString database, error;  // error: the database could not be read (the lists are empty)
  QVector<StoredAnalysis> profiles, reassignments;
};

// Every routing profile and reassignment table of every run, newest last, read through its own
// read-only connection: safe on a worker thread.
StoredAnalyses readStoredAnalyses(const QString& database);

}  // namespace moelab::ui
