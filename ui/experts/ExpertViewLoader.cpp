#include "experts/ExpertViewLoader.h"

#include <QRegularExpression>

#include "store/ExperimentStore.h"

namespace moelab::ui {

QStringList routingMetricNames() {
  return {"cv", "gini", "max_vio", "dropped_fraction", "router_entropy", "aux_loss", "z_loss"};
}

namespace {

// Reads newer rows than `after`, plus the held last rows themselves: if one of those is gone, the
// run was rewound (resume) and the caller must start over. Returns false then.
bool readNewer(const ExperimentStore& store, qint64 run, const ExpertViewCursor& after, ExpertViewUpdate& u) {
  static const QRegularExpression perLayer("^moe/layer\\d+/([a-z_]+)$");
  auto heldStillThere = [](int64_t held, int64_t firstRead) { return held < 0 || firstRead == held; };
  u.artifacts = readExpertArtifacts(store, run, after.couplingStep - 1, after.countsStep - 1);
  const auto& c = u.artifacts.coupling;
  const auto& n = u.artifacts.counts;
  if (!heldStillThere(after.couplingStep, c.empty() ? -2 : c.front().step) ||
      !heldStillThere(after.countsStep, n.empty() ? -2 : n.front().step))
    return false;
  // Drop the held rows again (they were read only to check they are still there).
  if (after.couplingStep >= 0) u.artifacts.coupling.erase(u.artifacts.coupling.begin());
  if (after.countsStep >= 0) u.artifacts.counts.erase(u.artifacts.counts.begin());
  const QStringList wanted = routingMetricNames();
  for (const auto& key : store.metricKeys(run)) {
    const QString k = QString::fromStdString(key);
    const auto m = perLayer.match(k);
    if (!m.hasMatch() || !wanted.contains(m.captured(1))) continue;
    auto rows = store.metricsAfter(run, key, after.routingStep - 1);
    if (after.routingStep >= 0) {
      if (rows.empty() || rows.front().step != after.routingStep) return false;
      rows.erase(rows.begin());
    }
    auto& points = u.routing[k];
    for (const auto& p : rows) points.push_back({double(p.step), p.value});
  }
  return true;
}

}  // namespace

ExpertViewUpdate loadExpertViewUpdate(const QString& dbPath, qint64 run, const ExpertViewCursor& after,
                                      quint64 generation) {
  ExpertViewUpdate u;
  u.run = run;
  u.generation = generation;
  try {
    ExperimentStore store(dbPath.toStdString(), /*readOnly=*/true);
    auto record = store.run(run);
    if (!record) {
      u.error = QString("run %1 is not in %2").arg(run).arg(dbPath);
      return u;
    }
    u.name = QString::fromStdString(record->name);
    u.status = QString::fromStdString(record->status);
    u.architecture = QString::fromStdString(record->config.value("model", nlohmann::json::object())
                                                .value("architecture", std::string("gnn_moe")));
    if (!readNewer(store, run, after, u)) {
      u.artifacts = {};
      u.routing.clear();
      u.reset = true;
      readNewer(store, run, ExpertViewCursor{}, u);
    }
  } catch (const std::exception& e) {
    u.error = QString::fromUtf8(e.what());
  }
  return u;
}

}  // namespace moelab::ui
