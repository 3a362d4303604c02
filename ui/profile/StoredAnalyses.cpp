#include "profile/StoredAnalyses.h"

#include <algorithm>

#include "store/ExperimentStore.h"

namespace moelab::ui {

QString StoredAnalysis::title() const {
  return QString("#%1 · run %2 (%3) · %4").arg(id).arg(run).arg(runName, label);
}

StoredAnalyses readStoredAnalyses(const QString& database) {
  StoredAnalyses out;
  out.database = database;
  try {
    ExperimentStore store(database.toStdString(), /*readOnly=*/true);
    for (const auto& r : store.listRuns()) {
      const std::string arch =
          r.config.value("model", nlohmann::json::object()).value("architecture", std::string("gnn_moe"));
      if (arch == "dense") continue;
      for (const auto& a : store.analyses(r.id)) {
        if (a.kind != "routing_profile" && a.kind != "reassignment") continue;
        StoredAnalysis s{a.id,
                         r.id,
                         QString::fromStdString(r.name),
                         QString::fromStdString(arch),
                         QString::fromStdString(a.label),
                         QString::fromStdString(a.createdAt),
                         a.content};
        (a.kind == "routing_profile" ? out.profiles : out.reassignments).push_back(std::move(s));
      }
    }
    const auto byId = [](const StoredAnalysis& a, const StoredAnalysis& b) { return a.id < b.id; };
    std::sort(out.profiles.begin(), out.profiles.end(), byId);
    std::sort(out.reassignments.begin(), out.reassignments.end(), byId);
  } catch (const std::exception& e) {
    out = {};
    out.database = database;
    out.error = QString::fromUtf8(e.what());
  }
  return out;
}

}  // namespace moelab::ui
