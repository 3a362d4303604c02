// ExperimentStore queries for live views: one query for a whole runs table, incremental rows for
// charts (see ExperimentStore.h).
#include "store/ExperimentStore.h"
#include "store/SqliteStatement.h"

namespace moelab {
using namespace store_detail;

std::map<int64_t, std::map<std::string, double>> ExperimentStore::latestValues(
    const std::vector<std::string>& keys) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  std::map<int64_t, std::map<std::string, double>> out;
  if (keys.empty()) return out;
  std::string sql = "SELECT run_id, key, value, kind FROM latest_metrics WHERE key IN (?";
  for (size_t i = 1; i < keys.size(); ++i) sql += ", ?";
  sql += ")";
  Stmt s(db_, sql.c_str());
  for (size_t i = 0; i < keys.size(); ++i) s.bind(int(i + 1), keys[i]);
  while (s.step()) out[s.i64(0)][s.text(1)] = fromKind(int(s.i64(3)), s.f64(2));
  return out;
}

std::vector<MetricPoint> ExperimentStore::metricsAfter(int64_t run, const std::string& key,
                                                       int64_t afterStep) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Stmt s(db_,
         "SELECT step, value, kind, wall_time FROM metrics WHERE run_id = ? AND key = ? AND step > ? ORDER "
         "BY step");
  s.bind(1, run).bind(2, key).bind(3, afterStep);
  std::vector<MetricPoint> out;
  while (s.step()) out.push_back({key, s.i64(0), fromKind(int(s.i64(2)), s.f64(1)), s.f64(3)});
  return out;
}

std::map<int64_t, double> ExperimentStore::minimumValues(const std::string& key) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  // Non-finite rows are NULL (kind says which): MIN skips them.
  Stmt s(db_, "SELECT run_id, MIN(value) FROM metrics WHERE key = ? AND kind = 0 GROUP BY run_id");
  s.bind(1, key);
  std::map<int64_t, double> out;
  while (s.step()) out[s.i64(0)] = s.f64(1);
  return out;
}

std::map<int64_t, nlohmann::json> ExperimentStore::latestArtifacts(const std::string& key) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Stmt s(db_,
         "SELECT a.run_id, a.content FROM artifacts a WHERE a.key = ? AND a.step = "
         "(SELECT MAX(step) FROM artifacts b WHERE b.run_id = a.run_id AND b.key = a.key)");
  s.bind(1, key);
  std::map<int64_t, nlohmann::json> out;
  while (s.step()) out[s.i64(0)] = nlohmann::json::parse(s.text(1), nullptr, false);
  return out;
}

std::vector<std::string> ExperimentStore::metricKeys(int64_t run) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Stmt s(db_, "SELECT key FROM latest_metrics WHERE run_id = ? ORDER BY key");
  s.bind(1, run);
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  return out;
}

}  // namespace moelab
