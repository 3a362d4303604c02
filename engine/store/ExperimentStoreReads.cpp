// ExperimentStore queries for live views: one query for a whole runs table, incremental rows for
// charts (see ExperimentStore.h).
#include <algorithm>
#include <filesystem>

#include "store/ExperimentStore.h"
#include "store/SqliteStatement.h"
#include "util/Errors.h"

namespace moelab {
using namespace store_detail;

namespace {
// " AND <column> IN (?, ...)" for a run filter, bound from parameter `first` on.
std::string runFilter(const std::vector<int64_t>* runs, const char* column) {
  return runs ? std::string(" AND ") + column + " IN " + placeholders(std::max<size_t>(1, runs->size())) : "";
}
void bindRuns(Stmt& s, const std::vector<int64_t>* runs, int first) {
  if (!runs) return;
  if (runs->empty()) s.bind(first, int64_t(-1));  // matches nothing
  for (size_t i = 0; i < runs->size(); ++i) s.bind(first + int(i), (*runs)[i]);
}
}  // namespace

std::map<int64_t, std::map<std::string, double>> ExperimentStore::latestValues(
    const std::vector<std::string>& keys, const std::vector<int64_t>* runs) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  std::map<int64_t, std::map<std::string, double>> out;
  if (keys.empty()) return out;
  const std::string sql = "SELECT run_id, key, value, kind FROM latest_metrics WHERE key IN " +
                          placeholders(keys.size()) + runFilter(runs, "run_id");
  Stmt s(db_, sql.c_str());
  for (size_t i = 0; i < keys.size(); ++i) s.bind(int(i + 1), keys[i]);
  bindRuns(s, runs, int(keys.size()) + 1);
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

std::map<int64_t, double> ExperimentStore::minimumValues(const std::string& key,
                                                         const std::vector<int64_t>* runs) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  // From schema 4 on the minimum is kept per run/key; a read-only view of an older file scans
  // the metric rows (non-finite rows are NULL, which MIN skips).
  const std::string sql =
      schemaVersion() >= 4
          ? "SELECT run_id, min_value FROM latest_metrics WHERE key = ? AND min_value IS NOT NULL" +
                runFilter(runs, "run_id")
          : "SELECT run_id, MIN(value) FROM metrics WHERE key = ? AND kind = 0" + runFilter(runs, "run_id") +
                " GROUP BY run_id";
  Stmt s(db_, sql.c_str());
  s.bind(1, key);
  bindRuns(s, runs, 2);
  std::map<int64_t, double> out;
  while (s.step()) out[s.i64(0)] = s.f64(1);
  return out;
}

std::map<int64_t, nlohmann::json> ExperimentStore::latestArtifacts(const std::string& key,
                                                                   const std::vector<int64_t>* runs) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  const std::string sql =
      "SELECT a.run_id, a.content FROM artifacts a WHERE a.key = ? AND a.step = "
      "(SELECT MAX(step) FROM artifacts b WHERE b.run_id = a.run_id AND b.key = a.key)" +
      runFilter(runs, "a.run_id");
  Stmt s(db_, sql.c_str());
  s.bind(1, key);
  bindRuns(s, runs, 2);
  std::map<int64_t, nlohmann::json> out;
  while (s.step()) out[s.i64(0)] = nlohmann::json::parse(s.text(1), nullptr, false);
  return out;
}

std::map<int64_t, std::string> ExperimentStore::runStamps() const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Stmt s(
      db_,
      "SELECT r.id, r.status || '|' || r.step || '|' || IFNULL(r.heartbeat_at, '') || '|' || "
      "IFNULL(r.finished_at, '') || '|' || length(IFNULL(r.error, '')) || '|' || length(r.config) || '|' || "
      "IFNULL((SELECT MAX(l.step) || ':' || COUNT(*) FROM latest_metrics l WHERE l.run_id = r.id), '') "
      "FROM runs r");
  std::map<int64_t, std::string> out;
  while (s.step()) out.emplace_hint(out.end(), s.i64(0), s.text(1));
  return out;
}

int64_t ExperimentStore::dataVersion() const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Stmt s(db_, "PRAGMA data_version");
  return s.step() ? s.i64(0) : 0;
}

std::vector<std::string> ExperimentStore::metricKeys(int64_t run) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Stmt s(db_, "SELECT key FROM latest_metrics WHERE run_id = ? ORDER BY key");
  s.bind(1, run);
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  return out;
}

std::string ExperimentStore::checkpointPath(int64_t runId, bool preferBest) const {
  namespace fs = std::filesystem;
  auto run = this->run(runId);
  if (!run) throw UserError("no run with id " + std::to_string(runId));
  if (run->checkpointDir.empty()) throw UserError("run " + std::to_string(runId) + " has no checkpoint yet");
  std::string best = run->checkpointDir + "/best.pt", last = run->checkpointDir + "/last.pt";
  if (preferBest && fs::exists(best)) return best;
  if (fs::exists(last)) return last;
  if (fs::exists(best)) return best;
  throw UserError("run " + std::to_string(runId) + ": no checkpoint in " + run->checkpointDir);
}

}  // namespace moelab
