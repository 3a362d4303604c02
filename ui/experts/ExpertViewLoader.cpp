#include "experts/ExpertViewLoader.h"

#include <QRegularExpression>

#include "store/ExperimentStore.h"

namespace moelab::ui {

QStringList routingMetricNames() {
  return {"cv", "gini", "max_vio", "dropped_fraction", "router_entropy", "aux_loss", "z_loss"};
}

ExpertViewUpdate loadExpertViewUpdate(const QString& dbPath, qint64 run, const ExpertViewCursor& after) {
  ExpertViewUpdate u;
  u.run = run;
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
    u.artifacts = readExpertArtifacts(store, run, after.couplingStep, after.countsStep);
    static const QRegularExpression perLayer("^moe/layer\\d+/([a-z_]+)$");
    const QStringList wanted = routingMetricNames();
    for (const auto& key : store.metricKeys(run)) {
      const QString k = QString::fromStdString(key);
      const auto m = perLayer.match(k);
      if (!m.hasMatch() || !wanted.contains(m.captured(1))) continue;
      auto& points = u.routing[k];
      for (const auto& p : store.metricsAfter(run, key, after.routingStep))
        points.push_back({double(p.step), p.value});
    }
  } catch (const std::exception& e) {
    u.error = QString::fromUtf8(e.what());
  }
  return u;
}

}  // namespace moelab::ui
