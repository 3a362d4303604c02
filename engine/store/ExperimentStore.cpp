#include "store/ExperimentStore.h"

#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <stdexcept>
#include <thread>

#include "config/ExperimentConfig.h"
#include "store/SqliteStatement.h"
#include "store/StoreSchema.h"
#include "util/Errors.h"

namespace moelab {
using namespace store_detail;
namespace {

// Whether a live pid runs one of our executables (moelab, moelab-cli, the test runner). When
// /proc cannot tell (another user's process), assume it does: never mark a live run by guess.
bool isMoeLabProcess(int64_t pid) {
  char buf[4096];
  const std::string link = "/proc/" + std::to_string(pid) + "/exe";
  const ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
  if (n <= 0) return true;
  std::string exe(buf, size_t(n));
  const std::string name = exe.substr(exe.rfind('/') + 1);
  return name.rfind("moelab", 0) == 0;
}

}  // namespace

ExperimentStore::ExperimentStore(const std::string& path, bool readOnly) : path_(path), readOnly_(readOnly) {
  int flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw UserError("cannot open experiment database " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 10000);  // before WAL, so switching journal mode waits too
  try {
    exec("PRAGMA foreign_keys=ON");
    if (!readOnly) {
      // Identify and migrate first, in rollback-journal mode and inside one exclusive
      // transaction: a foreign file is refused before anything in it changes (switching to WAL
      // rewrites the header), and two processes creating one new database cannot race.
      migrate();
      withBusyRetry([&] { exec("PRAGMA journal_mode=WAL"); });
      exec("PRAGMA synchronous=NORMAL");
      markStaleRuns();
    } else {
      // Readers never write: no schema, no WAL switch, no status updates. Runs whose process is
      // gone are reported as interrupted without recording it.
      int v = 0;
      try {
        v = identify();
      } catch (const std::runtime_error&) {
        // A WAL database in a folder this user cannot write: SQLite cannot create its shared-memory
        // index. Such a file cannot change under us through this user, so read it as immutable.
        const int code = sqlite3_extended_errcode(db_) & 0xFF;
        if (code != SQLITE_READONLY && code != SQLITE_CANTOPEN) throw;
        sqlite3_close(db_);
        db_ = nullptr;
        std::string uri = "file:";
        for (char c : path) {
          if (c == '%' || c == '?' || c == '#') {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", unsigned(static_cast<unsigned char>(c)));
            uri += buf;
          } else {
            uri += c;
          }
        }
        uri += "?immutable=1";
        if (sqlite3_open_v2(uri.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_FULLMUTEX,
                            nullptr) != SQLITE_OK)
          throw std::runtime_error(db_ ? sqlite3_errmsg(db_) : "cannot open read-only");
        v = identify();
      }
      if (v < 2)
        throw UserError(path + ": database schema version " + std::to_string(v) +
                        " is too old to read without upgrading; open it once with a command that writes "
                        "(moelab-cli train, or the desktop app's File > Open) to upgrade it");
      for (int64_t id : staleRunIds()) staleUnrecorded_.insert(id);
    }
  } catch (const std::runtime_error& e) {
    sqlite3_close(db_);
    db_ = nullptr;
    if (dynamic_cast<const UserError*>(&e)) throw;
    throw UserError(path + " is not a usable MoE Lab experiment database: " + e.what());
  }
}

ExperimentStore::~ExperimentStore() {
  if (db_) sqlite3_close(db_);
}

void ExperimentStore::exec(const std::string& sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw std::runtime_error("SQLite: " + msg);
  }
}

int ExperimentStore::schemaVersion() const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Stmt s(db_, "PRAGMA user_version");
  s.step();
  return int(s.i64(0));
}

void ExperimentStore::withBusyRetry(const std::function<void()>& action) const {
  // busy_timeout covers ordinary lock waits; a few statements (BEGIN IMMEDIATE on a file that is
  // being created, journal-mode switches) can still report SQLITE_BUSY at once. Back off and retry.
  for (int attempt = 0;; ++attempt) {
    try {
      action();
      return;
    } catch (const std::runtime_error& e) {
      const int code = sqlite3_extended_errcode(db_) & 0xFF;
      if ((code != SQLITE_BUSY && code != SQLITE_LOCKED) || attempt >= 50) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(20 + 10 * attempt));
    }
  }
}

int ExperimentStore::identify() const {
  int v = schemaVersion();
  Stmt app(db_, "PRAGMA application_id");
  app.step();
  const int64_t appId = app.i64(0);
  Stmt objects(db_, "SELECT COUNT(*), SUM(name = 'runs') FROM sqlite_master");
  objects.step();
  const bool empty = objects.i64(0) == 0, hasRuns = objects.i64(1) > 0;
  const bool ours = appId == kApplicationId || (appId == 0 && (empty || (v >= 1 && hasRuns)));
  if (!ours || (v == 0 && !empty))
    throw UserError(path_ + " is an SQLite file but not a MoE Lab experiment database (nothing was changed)");
  if (v > kSchemaVersion)
    throw UserError(path_ + ": database schema version " + std::to_string(v) +
                    " is newer than this MoE Lab (" + std::to_string(kSchemaVersion) + "); upgrade MoE Lab");
  if (empty && readOnly_) throw UserError(path_ + " is an empty file, not a MoE Lab experiment database");
  return v;
}

void ExperimentStore::migrate() {
  // Some migrations rebuild a table that others reference; SQLite's procedure for that turns
  // foreign keys off outside the transaction and checks them before committing.
  exec("PRAGMA foreign_keys=OFF");
  withBusyRetry([&] { exec("BEGIN IMMEDIATE"); });
  try {
    // Identify and read the version inside the write lock: another process may have just created
    // the schema.
    int v = identify();
    bool stamped = false;
    {
      // Finalised before migrating: DROP TABLE refuses while any statement is still open.
      Stmt app(db_, "PRAGMA application_id");
      app.step();
      stamped = app.i64(0) == kApplicationId;
    }
    for (; v < kSchemaVersion; ++v) exec(kStoreMigrations[v]);
    exec("PRAGMA user_version=" + std::to_string(kSchemaVersion));
    if (!stamped) exec("PRAGMA application_id=" + std::to_string(kApplicationId));
    {
      Stmt fk(db_, "PRAGMA foreign_key_check");
      if (fk.step()) throw std::runtime_error("schema upgrade broke a reference in table " + fk.text(0));
    }
    exec("COMMIT");
  } catch (...) {
    exec("ROLLBACK");
    exec("PRAGMA foreign_keys=ON");
    throw;
  }
  exec("PRAGMA foreign_keys=ON");
}

int64_t ExperimentStore::createRun(const std::string& experiment, const std::string& name,
                                   const nlohmann::json& config, const std::string& status, int64_t sweepId,
                                   int64_t sweepIndex) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  // One write transaction, taken up front: a read left open inside it would have to be upgraded to
  // a write, which WAL refuses at once (no busy wait) when another process wrote in between.
  withBusyRetry([&] { exec("BEGIN IMMEDIATE"); });
  try {
    std::string now = nowIso();
    Stmt(db_, "INSERT OR IGNORE INTO experiments(name, created_at) VALUES(?, ?)")
        .bind(1, experiment)
        .bind(2, now)
        .run();
    int64_t expId = 0;
    {
      Stmt e(db_, "SELECT id FROM experiments WHERE name = ?");
      e.bind(1, experiment);
      e.step();
      expId = e.i64(0);
    }
    Stmt s(db_,
           "INSERT INTO runs(experiment_id, name, status, config, created_at, started_at, heartbeat_at, pid, "
           "host, sweep_id, sweep_index) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, expId).bind(2, name).bind(3, status).bind(4, config.dump()).bind(5, now);
    if (status == "running") s.bind(6, now).bind(7, now);
    s.bind(8, int64_t(getpid())).bind(9, hostName());
    if (sweepId > 0) s.bind(10, sweepId).bind(11, sweepIndex);
    s.run();
    const int64_t id = sqlite3_last_insert_rowid(db_);
    exec("COMMIT");
    return id;
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
}

void ExperimentStore::setStatus(int64_t run, const std::string& status, const std::string& error) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  bool ended = status != "running" && status != "queued";
  Stmt s(db_,
         "UPDATE runs SET status = ?, error = NULLIF(?, ''), pid = ?, host = ?, heartbeat_at = ?, "
         "started_at = CASE WHEN ? = 'running' THEN COALESCE(started_at, ?) ELSE started_at END, "
         "finished_at = CASE WHEN ? THEN ? ELSE NULL END WHERE id = ?");
  std::string now = nowIso();
  s.bind(1, status).bind(2, error).bind(3, int64_t(getpid())).bind(4, hostName()).bind(5, now);
  s.bind(6, status).bind(7, now).bind(8, int64_t(ended)).bind(9, now).bind(10, run);
  s.run();
  if (sqlite3_changes(db_) == 0) throw UserError("no run with id " + std::to_string(run));
}

void ExperimentStore::setProvenance(int64_t run, const nlohmann::json& p) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Stmt(db_, "UPDATE runs SET provenance = ? WHERE id = ?").bind(1, p.dump()).bind(2, run).run();
}

void ExperimentStore::setCheckpointDir(int64_t run, const std::string& dir) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Stmt(db_, "UPDATE runs SET checkpoint_dir = ? WHERE id = ?").bind(1, dir).bind(2, run).run();
}

void ExperimentStore::heartbeat(int64_t run, int64_t step) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Stmt(db_, "UPDATE runs SET heartbeat_at = ?, step = ? WHERE id = ?")
      .bind(1, nowIso())
      .bind(2, step)
      .bind(3, run)
      .run();
}

void ExperimentStore::writeParams(int64_t run, const nlohmann::json& flat) {
  Stmt s(db_,
         "INSERT INTO params(run_id, key, value) VALUES(?, ?, ?) "
         "ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value");
  for (auto it = flat.begin(); it != flat.end(); ++it)
    s.bind(1, run)
        .bind(2, it.key())
        .bind(3, it.value().is_string() ? it.value().get<std::string>() : it.value().dump())
        .run();
}

void ExperimentStore::logParams(int64_t run, const nlohmann::json& flat) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  exec("BEGIN IMMEDIATE");
  try {
    writeParams(run, flat);
    exec("COMMIT");
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
}

void ExperimentStore::recordConfigChange(int64_t run, int64_t step, const nlohmann::json& changes,
                                         const nlohmann::json& config, const std::string& note) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  exec("BEGIN IMMEDIATE");
  try {
    Stmt(db_, "UPDATE runs SET config = ? WHERE id = ?").bind(1, config.dump()).bind(2, run).run();
    if (sqlite3_changes(db_) == 0) throw UserError("no run with id " + std::to_string(run));
    Stmt(db_, "INSERT INTO config_changes(run_id, step, changes, note, changed_at) VALUES(?, ?, ?, ?, ?)")
        .bind(1, run)
        .bind(2, step)
        .bind(3, changes.dump())
        .bind(4, note)
        .bind(5, nowIso())
        .run();
    writeParams(run, flattenConfig(config));
    exec("COMMIT");
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
}

std::vector<ConfigChangeRecord> ExperimentStore::configChanges(int64_t run) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  std::vector<ConfigChangeRecord> out;
  if (schemaVersion() < 3) return out;  // read-only view of a database from before the history
  Stmt s(db_, "SELECT step, changes, note, changed_at FROM config_changes WHERE run_id = ? ORDER BY id");
  s.bind(1, run);
  while (s.step())
    out.push_back({s.i64(0), parseOr(s.text(1), nlohmann::json::array()), s.text(2), s.text(3)});
  return out;
}

void ExperimentStore::logMetrics(int64_t run, const std::vector<MetricPoint>& points) {
  if (points.empty()) return;
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  exec("BEGIN IMMEDIATE");
  try {
    Stmt m(db_,
           "INSERT INTO metrics(run_id, key, step, value, kind, wall_time) VALUES(?, ?, ?, ?, ?, ?) "
           "ON CONFLICT(run_id, key, step) DO UPDATE SET value = excluded.value, kind = excluded.kind, "
           "wall_time = excluded.wall_time");
    Stmt l(db_,
           "INSERT INTO latest_metrics(run_id, key, step, value, kind, wall_time) VALUES(?, ?, ?, ?, ?, ?) "
           "ON CONFLICT(run_id, key) DO UPDATE SET step = excluded.step, value = excluded.value, "
           "kind = excluded.kind, wall_time = excluded.wall_time WHERE excluded.step >= latest_metrics.step");
    Stmt best(db_,
              "UPDATE latest_metrics SET min_value = MIN(COALESCE(min_value, ?1), ?1) WHERE run_id = ?2 AND "
              "key = ?3");
    for (const auto& p : points) {
      int kind = kindOf(p.value);
      for (Stmt* s : {&m, &l}) {
        s->bind(1, run).bind(2, p.key).bind(3, p.step);
        if (kind == kFinite)
          s->bind(4, p.value);
        else
          s->bindNull(4);
        s->bind(5, kind).bind(6, p.wallTime).run();
      }
      if (kind == kFinite) best.bind(1, p.value).bind(2, run).bind(3, p.key).run();
    }
    exec("COMMIT");
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
}

void ExperimentStore::deleteMetricsAfter(int64_t run, int64_t step) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  exec("BEGIN IMMEDIATE");
  try {
    Stmt(db_, "DELETE FROM metrics WHERE run_id = ? AND step > ?").bind(1, run).bind(2, step).run();
    Stmt(db_, "DELETE FROM artifacts WHERE run_id = ? AND step > ?").bind(1, run).bind(2, step).run();
    Stmt(db_, "DELETE FROM latest_metrics WHERE run_id = ?").bind(1, run).run();
    Stmt(db_,
         "INSERT INTO latest_metrics(run_id, key, step, value, kind, wall_time, min_value) SELECT m.run_id, "
         "m.key, m.step, m.value, m.kind, m.wall_time, (SELECT MIN(y.value) FROM metrics y WHERE y.run_id = "
         "m.run_id AND y.key = m.key AND y.kind = 0) FROM metrics m "
         "WHERE m.run_id = ? AND m.step = (SELECT MAX(step) FROM metrics x WHERE x.run_id = m.run_id AND "
         "x.key = m.key)")
        .bind(1, run)
        .run();
    exec("COMMIT");
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
}

void ExperimentStore::putArtifact(int64_t run, const std::string& key, int64_t step,
                                  const nlohmann::json& c) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Stmt(db_,
       "INSERT INTO artifacts(run_id, key, step, content, created_at) VALUES(?, ?, ?, ?, ?) "
       "ON CONFLICT(run_id, key, step) DO UPDATE SET content = excluded.content")
      .bind(1, run)
      .bind(2, key)
      .bind(3, step)
      .bind(4, c.dump())
      .bind(5, nowIso())
      .run();
}

namespace {
// A read-only view of a database from before sweeps has no sweep columns.
std::string runColumns(int schemaVersion) {
  return std::string(
             "SELECT r.id, e.name, r.name, r.status, r.created_at, r.started_at, r.finished_at, "
             "r.heartbeat_at, "
             "r.error, r.checkpoint_dir, r.step, r.config, r.provenance, ") +
         (schemaVersion >= 5 ? "r.sweep_id, r.sweep_index" : "NULL, NULL") +
         " FROM runs r JOIN experiments e ON e.id = r.experiment_id";
}

RunRecord readRun(Stmt& s) {
  RunRecord r;
  r.id = s.i64(0);
  r.experiment = s.text(1);
  r.name = s.text(2);
  r.status = s.text(3);
  r.createdAt = s.text(4);
  r.startedAt = s.text(5);
  r.finishedAt = s.text(6);
  r.heartbeatAt = s.text(7);
  r.error = s.text(8);
  r.checkpointDir = s.text(9);
  r.step = s.i64(10);
  r.config = parseOr(s.text(11), nlohmann::json::object());
  r.provenance = parseOr(s.text(12), nullptr);
  r.sweepId = s.i64(13);
  r.sweepIndex = r.sweepId > 0 ? s.i64(14) : -1;
  return r;
}
}  // namespace

RunRecord ExperimentStore::withUnrecordedStatus(RunRecord r) const {
  if (r.status == "running" && staleUnrecorded_.count(r.id)) {
    r.status = "interrupted";
    r.error = "process ended without finishing the run (not yet recorded: database opened read-only)";
  }
  return r;
}

std::vector<RunRecord> ExperimentStore::listRuns() const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Stmt s(db_, (runColumns(schemaVersion()) + " ORDER BY r.id").c_str());
  std::vector<RunRecord> out;
  while (s.step()) out.push_back(withUnrecordedStatus(readRun(s)));
  return out;
}

std::vector<RunRecord> ExperimentStore::sweepRuns(int64_t sweep) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  std::vector<RunRecord> out;
  if (schemaVersion() < 5) return out;
  Stmt s(db_, (runColumns(5) + " WHERE r.sweep_id = ? ORDER BY r.sweep_index, r.id").c_str());
  s.bind(1, sweep);
  while (s.step()) out.push_back(withUnrecordedStatus(readRun(s)));
  return out;
}

std::vector<RunRecord> ExperimentStore::listRuns(const std::vector<int64_t>& ids) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  std::vector<RunRecord> out;
  if (ids.empty()) return out;
  Stmt s(db_, (runColumns(schemaVersion()) + " WHERE r.id IN " + placeholders(ids.size()) + " ORDER BY r.id")
                  .c_str());
  for (size_t i = 0; i < ids.size(); ++i) s.bind(int(i + 1), ids[i]);
  while (s.step()) out.push_back(withUnrecordedStatus(readRun(s)));
  return out;
}

std::optional<RunRecord> ExperimentStore::run(int64_t id) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Stmt s(db_, (runColumns(schemaVersion()) + " WHERE r.id = ?").c_str());
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return withUnrecordedStatus(readRun(s));
}

std::vector<MetricPoint> ExperimentStore::metrics(int64_t run, const std::string& key) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Stmt s(db_,
         key.empty()
             ? "SELECT key, step, value, kind, wall_time FROM metrics WHERE run_id = ? ORDER BY key, step"
             : "SELECT key, step, value, kind, wall_time FROM metrics WHERE run_id = ? AND key = ? ORDER BY "
               "step");
  s.bind(1, run);
  if (!key.empty()) s.bind(2, key);
  std::vector<MetricPoint> out;
  while (s.step()) out.push_back({s.text(0), s.i64(1), fromKind(int(s.i64(3)), s.f64(2)), s.f64(4)});
  return out;
}

std::map<std::string, MetricPoint> ExperimentStore::latestMetrics(int64_t run) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Stmt s(db_, "SELECT key, step, value, kind, wall_time FROM latest_metrics WHERE run_id = ?");
  s.bind(1, run);
  std::map<std::string, MetricPoint> out;
  while (s.step()) out[s.text(0)] = {s.text(0), s.i64(1), fromKind(int(s.i64(3)), s.f64(2)), s.f64(4)};
  return out;
}

std::vector<ArtifactRecord> ExperimentStore::artifacts(int64_t run, const std::string& key,
                                                       int64_t afterStep) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Stmt s(db_, key.empty()
                  ? "SELECT key, step, content FROM artifacts WHERE run_id = ? AND step > ? "
                    "ORDER BY key, step"
                  : "SELECT key, step, content FROM artifacts WHERE run_id = ? AND step > ? AND key = ? "
                    "ORDER BY step");
  s.bind(1, run).bind(2, afterStep);
  if (!key.empty()) s.bind(3, key);
  std::vector<ArtifactRecord> out;
  while (s.step()) out.push_back({s.text(0), s.i64(1), parseOr(s.text(2), nullptr)});
  return out;
}

nlohmann::json ExperimentStore::params(int64_t run) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Stmt s(db_, "SELECT key, value FROM params WHERE run_id = ? ORDER BY key");
  s.bind(1, run);
  nlohmann::json out = nlohmann::json::object();
  while (s.step()) out[s.text(0)] = s.text(1);
  return out;
}

std::vector<int64_t> ExperimentStore::staleRunIds(const char* table) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  std::vector<int64_t> stale;
  const std::string me = hostName();
  {
    // Finalised before the updates below: an open read would have to be upgraded to a write.
    Stmt s(db_,
           (std::string("SELECT id, pid, host, heartbeat_at FROM ") + table + " WHERE status = 'running'")
               .c_str());
    while (s.step()) {
      int64_t pid = s.i64(1);
      bool gone;
      if (s.text(2) == me) {
        // Gone, or the pid now belongs to another program (pids are reused).
        gone = pid <= 0 || (kill(pid_t(pid), 0) != 0 && errno == ESRCH) || !isMoeLabProcess(pid);
      } else {
        // Another machine's run: trust its heartbeat for 10 minutes.
        std::tm tm{};
        gone = strptime(s.text(3).c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr ||
               std::difftime(std::time(nullptr), timegm(&tm)) > 600;
      }
      if (gone) stale.push_back(s.i64(0));
    }
  }
  return stale;
}

int ExperimentStore::markStaleRuns() {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  const auto stale = staleRunIds();
  for (int64_t id : stale)
    Stmt(db_,
         "UPDATE runs SET status = 'interrupted', error = 'process ended without finishing the run' WHERE id "
         "= ?")
        .bind(1, id)
        .run();
  if (schemaVersion() >= 5)
    for (int64_t id : staleRunIds("sweeps"))
      Stmt(db_, "UPDATE sweeps SET status = 'interrupted' WHERE id = ?").bind(1, id).run();
  return int(stale.size());
}

}  // namespace moelab
