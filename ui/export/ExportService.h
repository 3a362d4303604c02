#pragma once
#include <QList>
#include <QObject>
#include <QString>
#include <QVector>

#include "export/ChartImage.h"

namespace moelab::ui {

// The app's exports, each off the UI thread with its own read-only connection to the database:
// a run's metrics as CSV (long or wide), its weights as safetensors, report folders (index.html +
// CSVs + chart PNGs) for a run or a comparison. Charts are rendered to PNG first, on the UI
// thread (widgets live there); the rest runs in the background. Each export ends in finished().
class ExportService : public QObject {
  Q_OBJECT
 public:
  explicit ExportService(QObject* parent = nullptr) : QObject(parent) {}
  void setDatabase(const QString& path) { dbPath_ = path; }

  void exportMetricsCsv(qint64 run, const QString& path, bool wide);
  void exportWeights(qint64 run, const QString& path, bool best);
  void exportRunReport(qint64 run, const QString& folder, const QVector<ChartImage>& charts);
  void exportComparisonReport(const QList<qint64>& runs, const QString& folder,
                              const QVector<ChartImage>& charts);
  int pending() const { return pending_; }

 signals:
  void finished(bool ok, const QString& message);

 private:
  template <typename Work>
  void runInBackground(Work work);
  template <typename Write>
  void reportInBackground(const QString& folder, const QVector<ChartImage>& charts, Write write);
  QString dbPath_;
  int pending_ = 0;
};

}  // namespace moelab::ui
