// ExperimentStore: sweeps and their points (see ExperimentStore.h).
#include <unistd.h>

#include <algorithm>

#include "store/ExperimentStore.h"
#include "store/SqliteStatement.h"
#include "util/Errors.h"

namespace moelab {
using namespace store_detail;

int64_t ExperimentStore::createSweep(const std::string& name, const nlohmann::json& spec,
                                     const std::vector<SweepPointRecord>& points) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  withBusyRetry([&] { exec("BEGIN IMMEDIATE"); });
  try {
    const std::string now = nowIso();
    Stmt s(
        db_,
        "INSERT INTO sweeps(name, spec, status, created_at, pid, host, heartbeat_at) VALUES(?, ?, 'running', "
        "?, ?, ?, ?)");
    s.bind(1, name)
        .bind(2, spec.dump())
        .bind(3, now)
        .bind(4, int64_t(getpid()))
        .bind(5, hostName())
        .bind(6, now);
    s.run();
    const int64_t id = sqlite3_last_insert_rowid(db_);
    Stmt p(db_,
           "INSERT INTO sweep_points(sweep_id, idx, params, config, status, error) VALUES(?, ?, ?, ?, ?, ?)");
    for (const auto& pt : points) {
      p.bind(1, id).bind(2, pt.index).bind(3, pt.params.dump());
      if (pt.config.is_null())
        p.bindNull(4);
      else
        p.bind(4, pt.config.dump());
      p.bind(5, pt.status);
      if (pt.error.empty())
        p.bindNull(6);
      else
        p.bind(6, pt.error);
      p.run();
    }
    exec("COMMIT");
    return id;
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
}

void ExperimentStore::setSweepStatus(int64_t sweep, const std::string& status) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Stmt s(db_,
         "UPDATE sweeps SET status = ?, pid = ?, host = ?, heartbeat_at = ?, finished_at = CASE WHEN ? = "
         "'finished' THEN ? ELSE NULL END WHERE id = ?");
  const std::string now = nowIso();
  s.bind(1, status).bind(2, int64_t(getpid())).bind(3, hostName()).bind(4, now).bind(5, status).bind(6, now);
  s.bind(7, sweep).run();
  if (sqlite3_changes(db_) == 0) throw UserError("no sweep with id " + std::to_string(sweep));
}

void ExperimentStore::setSweepPoint(int64_t sweep, int64_t index, const std::string& status,
                                    const std::string& error) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Stmt s(db_, "UPDATE sweep_points SET status = ?, error = NULLIF(?, '') WHERE sweep_id = ? AND idx = ?");
  s.bind(1, status).bind(2, error).bind(3, sweep).bind(4, index).run();
}

namespace {
const char* kSweepColumns =
    "SELECT s.id, s.name, s.status, s.created_at, s.finished_at, s.spec, (SELECT COUNT(*) FROM sweep_points "
    "p "
    "WHERE p.sweep_id = s.id), s.pid, s.host FROM sweeps s";
}

std::vector<SweepRecord> ExperimentStore::listSweeps() const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  std::vector<SweepRecord> out;
  if (schemaVersion() < 5) return out;
  // Sweeps whose process is gone read as interrupted (a read-only view never records it; a
  // writer records it when it next opens).
  const auto stale = staleRunIds("sweeps");
  Stmt s(db_, (std::string(kSweepColumns) + " ORDER BY s.id").c_str());
  while (s.step()) {
    SweepRecord r{s.i64(0), s.text(1), s.text(2), s.text(3), s.text(4), parseOr(s.text(5), nullptr),
                  s.i64(6), s.i64(7),  s.text(8)};
    if (r.status == "running" && std::find(stale.begin(), stale.end(), r.id) != stale.end())
      r.status = "interrupted";
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<SweepRecord> ExperimentStore::sweep(int64_t id) const {
  for (auto& s : listSweeps())
    if (s.id == id) return s;
  return std::nullopt;
}

std::vector<SweepPointRecord> ExperimentStore::sweepPoints(int64_t sweep) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  std::vector<SweepPointRecord> out;
  if (schemaVersion() < 5) return out;
  Stmt s(db_, "SELECT idx, params, config, status, error FROM sweep_points WHERE sweep_id = ? ORDER BY idx");
  s.bind(1, sweep);
  while (s.step())
    out.push_back({s.i64(0), parseOr(s.text(1), nlohmann::json::object()), parseOr(s.text(2), nullptr),
                   s.text(3), s.text(4)});
  return out;
}

}  // namespace moelab
