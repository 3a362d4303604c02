#include "export/ExportService.h"

#include <QDir>
#include <QFutureWatcher>
#include <QtConcurrent/QtConcurrentRun>
#include <fstream>

#include "io/CheckpointExport.h"
#include "io/MetricsCsv.h"
#include "report/ReportWriter.h"
#include "store/ExperimentStore.h"

namespace moelab::ui {
namespace {
struct Outcome {
  bool ok = true;
  QString message;
};

// The chart images of a report, as charts/<slug>.png under the folder.
std::vector<ReportImage> renderCharts(const QString& folder, const QVector<ChartImage>& charts,
                                      QString& error) {
  std::vector<ReportImage> images;
  QDir dir(folder);
  if (!dir.mkpath("charts")) {
    error = "cannot create " + dir.filePath("charts");
    return images;
  }
  int i = 0;
  for (const auto& c : charts) {
    if (c.empty()) continue;
    QString slug = c.title.toLower();
    for (QChar& ch : slug)
      if (!ch.isLetterOrNumber()) ch = '-';
    const QString rel = QString("charts/%1-%2.png").arg(++i, 2, 10, QChar('0')).arg(slug);
    if (!renderChartPng(c, dir.filePath(rel))) {
      error = "cannot write " + dir.filePath(rel);
      return {};
    }
    images.push_back({rel.toStdString(), c.title.toStdString()});
  }
  return images;
}
}  // namespace

template <typename Work>
void ExportService::runInBackground(Work work) {
  ++pending_;
  auto* watcher = new QFutureWatcher<Outcome>(this);
  connect(watcher, &QFutureWatcher<Outcome>::finished, this, [this, watcher] {
    --pending_;
    const Outcome o = watcher->result();
    watcher->deleteLater();
    emit finished(o.ok, o.message);
  });
  const std::string db = dbPath_.toStdString();
  watcher->setFuture(QtConcurrent::run([db, work]() -> Outcome {
    try {
      ExperimentStore store(db, /*readOnly=*/true);
      return {true, work(store)};
    } catch (const std::exception& e) {
      return {false, QString::fromUtf8(e.what())};
    }
  }));
}

void ExportService::exportMetricsCsv(qint64 run, const QString& path, bool wide) {
  const std::string out = path.toStdString();
  runInBackground([run, out, wide, path](const ExperimentStore& store) {
    if (!store.run(run)) throw std::runtime_error("no run with id " + std::to_string(run));
    const auto points = store.metrics(run);
    std::ofstream f(out, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error("cannot write " + out + ": choose a folder you can write to");
    if (wide)
      writeMetricsWide(f, points);
    else
      writeMetricsLong(f, run, points);
    if (!f) throw std::runtime_error("writing " + out + " failed (disk full?)");
    return QString("wrote %1 metric rows of run %2 to %3 (%4)")
        .arg(points.size())
        .arg(run)
        .arg(path, wide ? "wide" : "long");
  });
}

void ExportService::exportWeights(qint64 run, const QString& path, bool best) {
  const std::string out = path.toStdString();
  runInBackground([run, out, best, path](const ExperimentStore& store) {
    auto r = store.run(run);
    if (!r) throw std::runtime_error("no run with id " + std::to_string(run));
    std::string checkpoint;
    for (const char* name : best ? std::initializer_list<const char*>{"/best.pt", "/last.pt"}
                                 : std::initializer_list<const char*>{"/last.pt"})
      if (checkpoint.empty() && !r->checkpointDir.empty() &&
          QFile::exists(QString::fromStdString(r->checkpointDir + name)))
        checkpoint = r->checkpointDir + name;
    if (checkpoint.empty())
      throw std::runtime_error("run " + std::to_string(run) + " has no checkpoint yet (in " +
                               r->checkpointDir + "); export after its first save");
    const WeightExportSummary s = exportCheckpointWeights(checkpoint, out);
    return QString("wrote %1 tensors of run %2 (%3, step %4) to %5")
        .arg(s.tensors)
        .arg(run)
        .arg(QString::fromStdString(s.taken))
        .arg(s.step)
        .arg(path);
  });
}

template <typename Write>
void ExportService::reportInBackground(const QString& folder, const QVector<ChartImage>& charts,
                                       Write write) {
  QString error;
  const auto images = renderCharts(folder, charts, error);  // widgets: on the UI thread
  if (!error.isEmpty()) {
    emit finished(false, error);
    return;
  }
  runInBackground([images, write](const ExperimentStore& store) { return write(store, images); });
}

void ExportService::exportRunReport(qint64 run, const QString& folder, const QVector<ChartImage>& charts) {
  reportInBackground(folder, charts,
                     [run, folder](const ExperimentStore& store, const std::vector<ReportImage>& images) {
                       const auto files = writeRunReport(store, run, folder.toStdString(), images);
                       return QString("report of run %1 written to %2/index.html (%3 files)")
                           .arg(run)
                           .arg(folder)
                           .arg(files.size());
                     });
}

void ExportService::exportComparisonReport(const QList<qint64>& runs, const QString& folder,
                                           const QVector<ChartImage>& charts) {
  const std::vector<int64_t> ids(runs.begin(), runs.end());
  reportInBackground(
      folder, charts, [ids, folder](const ExperimentStore& store, const std::vector<ReportImage>& images) {
        const auto files = writeComparisonReport(store, ids, folder.toStdString(), images);
        return QString("comparison report written to %1/index.html (%2 files)").arg(folder).arg(files.size());
      });
}

}  // namespace moelab::ui
