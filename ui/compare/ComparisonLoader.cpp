#include "compare/ComparisonLoader.h"

#include "store/ExperimentStore.h"

namespace moelab::ui {

ComparisonData loadComparison(const QString& dbPath, const QList<qint64>& ids) {
  ComparisonData d;
  d.ids = ids;
  try {
    ExperimentStore store(dbPath.toStdString(), /*readOnly=*/true);
    d.table = RunComparison::build(store, std::vector<int64_t>(ids.begin(), ids.end()));
    for (const auto& r : d.table.runs) {
      const QString label = QString("run %1 · %2").arg(r.id).arg(QString::fromStdString(r.name));
      for (const auto& m : store.metrics(r.id))
        d.series[QString::fromStdString(m.key)][label].push_back({double(m.step), m.value});
    }
    d.keys = d.series.keys();
  } catch (const std::exception& e) {
    d.error = QString::fromUtf8(e.what());
  }
  return d;
}

}  // namespace moelab::ui
