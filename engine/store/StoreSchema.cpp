#include "store/StoreSchema.h"

#include "store/ExperimentStore.h"

namespace moelab {

// Schema history: entry i migrates version i to i+1. Never edit a released entry; append.
const char* const kStoreMigrations[] = {
    // v1: experiments, runs, params, metrics.
    R"SQL(
    CREATE TABLE experiments(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
    CREATE TABLE runs(
      id INTEGER PRIMARY KEY, experiment_id INTEGER NOT NULL REFERENCES experiments(id),
      name TEXT NOT NULL, status TEXT NOT NULL CHECK(status IN
        ('queued','running','finished','failed','interrupted','diverged')),
      config TEXT NOT NULL, created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT,
      heartbeat_at TEXT, step INTEGER NOT NULL DEFAULT 0, pid INTEGER, host TEXT,
      provenance TEXT, error TEXT, checkpoint_dir TEXT);
    CREATE TABLE params(run_id INTEGER NOT NULL REFERENCES runs(id), key TEXT NOT NULL, value TEXT,
      PRIMARY KEY(run_id, key));
    CREATE TABLE metrics(run_id INTEGER NOT NULL REFERENCES runs(id), key TEXT NOT NULL,
      step INTEGER NOT NULL, value REAL, kind INTEGER NOT NULL DEFAULT 0, wall_time REAL NOT NULL,
      PRIMARY KEY(run_id, key, step)) WITHOUT ROWID;
    )SQL",
    // v2: latest-metric summary (fast run lists) and artifacts; backfill the summary.
    R"SQL(
    CREATE TABLE latest_metrics(run_id INTEGER NOT NULL REFERENCES runs(id), key TEXT NOT NULL,
      step INTEGER NOT NULL, value REAL, kind INTEGER NOT NULL DEFAULT 0, wall_time REAL NOT NULL,
      PRIMARY KEY(run_id, key)) WITHOUT ROWID;
    INSERT INTO latest_metrics SELECT m.run_id, m.key, m.step, m.value, m.kind, m.wall_time FROM metrics m
      WHERE m.step = (SELECT MAX(step) FROM metrics x WHERE x.run_id = m.run_id AND x.key = m.key);
    CREATE TABLE artifacts(id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id),
      key TEXT NOT NULL, step INTEGER NOT NULL, content TEXT NOT NULL, created_at TEXT NOT NULL,
      UNIQUE(run_id, key, step));
    )SQL",
    // v3: config changes made when a run is resumed (the runs row holds the config in force).
    R"SQL(
    CREATE TABLE config_changes(id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id),
      step INTEGER NOT NULL, changes TEXT NOT NULL, note TEXT, changed_at TEXT NOT NULL);
    )SQL",
    // v4: each run/key's smallest finite value kept beside its latest (best-so-far columns of a
    // runs table without scanning every metric row); backfilled.
    R"SQL(
    ALTER TABLE latest_metrics ADD COLUMN min_value REAL;
    UPDATE latest_metrics SET min_value = (SELECT MIN(m.value) FROM metrics m
      WHERE m.run_id = latest_metrics.run_id AND m.key = latest_metrics.key AND m.kind = 0);
    )SQL",
    // v5: sweeps and their points; runs gain the status `pruned` (early-stopped by a sweep) and
    // their sweep point. SQLite cannot alter a CHECK constraint, so runs is rebuilt (migrate()
    // turns foreign keys off around this and checks them before committing).
    R"SQL(
    CREATE TABLE sweeps(id INTEGER PRIMARY KEY, name TEXT NOT NULL, spec TEXT NOT NULL,
      status TEXT NOT NULL CHECK(status IN ('running','finished','interrupted')),
      created_at TEXT NOT NULL, finished_at TEXT, pid INTEGER, host TEXT, heartbeat_at TEXT);
    CREATE TABLE sweep_points(sweep_id INTEGER NOT NULL REFERENCES sweeps(id), idx INTEGER NOT NULL,
      params TEXT NOT NULL, config TEXT, status TEXT NOT NULL DEFAULT 'pending'
        CHECK(status IN ('pending','invalid','refused','started')),
      error TEXT, PRIMARY KEY(sweep_id, idx)) WITHOUT ROWID;
    CREATE TABLE runs_v5(
      id INTEGER PRIMARY KEY, experiment_id INTEGER NOT NULL REFERENCES experiments(id),
      name TEXT NOT NULL, status TEXT NOT NULL CHECK(status IN
        ('queued','running','finished','failed','interrupted','diverged','pruned')),
      config TEXT NOT NULL, created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT,
      heartbeat_at TEXT, step INTEGER NOT NULL DEFAULT 0, pid INTEGER, host TEXT,
      provenance TEXT, error TEXT, checkpoint_dir TEXT,
      sweep_id INTEGER REFERENCES sweeps(id), sweep_index INTEGER);
    INSERT INTO runs_v5(id, experiment_id, name, status, config, created_at, started_at, finished_at,
      heartbeat_at, step, pid, host, provenance, error, checkpoint_dir)
      SELECT id, experiment_id, name, status, config, created_at, started_at, finished_at,
      heartbeat_at, step, pid, host, provenance, error, checkpoint_dir FROM runs;
    DROP TABLE runs;
    ALTER TABLE runs_v5 RENAME TO runs;
    CREATE INDEX runs_by_sweep ON runs(sweep_id, sweep_index);
    )SQL",
    // v6: analyses of a finished model: routing profiles, evaluations, reassignment tables.
    R"SQL(
    CREATE TABLE analyses(id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id),
      kind TEXT NOT NULL CHECK(kind IN ('routing_profile','evaluation','reassignment')),
      label TEXT NOT NULL, content TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE INDEX analyses_by_run ON analyses(run_id, kind, id);
    )SQL",
};
static_assert(sizeof(kStoreMigrations) / sizeof(kStoreMigrations[0]) == ExperimentStore::kSchemaVersion);

}  // namespace moelab
