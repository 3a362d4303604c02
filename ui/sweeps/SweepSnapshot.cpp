#include "sweeps/SweepSnapshot.h"

#include <cmath>

namespace moelab::ui {

SweepSnapshot loadSweepSnapshot(const QString& dbPath, qint64 selected) {
  SweepSnapshot s;
  try {
    ExperimentStore store(dbPath.toStdString(), /*readOnly=*/true);
    s.sweeps = store.listSweeps();
    for (const auto& rec : s.sweeps) {
      s.all.push_back(SweepTable::load(store, rec.id));
      if (rec.id != selected) continue;
      s.selected = selected;
      s.table = s.all.back();
      s.haveTable = true;
      for (const auto& row : s.table.rows) {
        if (row.runId <= 0) continue;
        QVector<QPointF> c;
        for (const auto& m : store.metrics(row.runId, s.table.spec.metric))
          c.push_back(QPointF(double(m.step), m.value));
        s.curves[int(row.index)] = c;
      }
    }
  } catch (const std::exception& e) {
    s.error = QString::fromUtf8(e.what());
  }
  return s;
}

bool prefersLogAxis(const SweepTable& table, const std::string& key) {
  if (const SweepParam* p = table.spec.param(key); p && p->logScale()) return true;
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& r : table.rows) {
    const auto& v = r.values.value(key, nlohmann::json());
    if (!v.is_number()) return false;
    lo = std::min(lo, v.get<double>());
    hi = std::max(hi, v.get<double>());
  }
  return lo > 0 && hi / lo >= 10;
}

}  // namespace moelab::ui
