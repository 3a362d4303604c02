#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "metrics/Metrics.h"

struct sqlite3;

namespace moelab {

struct RunRecord {
  int64_t id = 0;
  std::string experiment, name, status, createdAt, startedAt, finishedAt, heartbeatAt, error, checkpointDir;
  int64_t step = 0;
  nlohmann::json config, provenance;
  int64_t sweepId = 0, sweepIndex = -1;  // the sweep point it runs (0: not part of a sweep)
};

// Where a sweep runs and how it stands: running (its process alive), finished, interrupted.
struct SweepRecord {
  int64_t id = 0;
  std::string name, status, createdAt, finishedAt;
  nlohmann::json spec;
  int64_t points = 0;
  int64_t pid = 0;  // the process that last ran it
  std::string host;
};

// One point of a sweep: the swept values, the validated config (null when invalid) and what
// happened to it before a run existed: pending, invalid (the engine's message), refused (data
// missing, too large: the message; retried on resume) or started (its run holds the rest).
struct SweepPointRecord {
  int64_t index = 0;
  nlohmann::json params, config;
  std::string status = "pending", error;
};

// Config keys changed when a run was resumed at `step`: [{"key", "before", "after"}].
struct ConfigChangeRecord {
  int64_t step = 0;
  nlohmann::json changes;
  std::string note, changedAt;
};

struct ArtifactRecord {
  std::string key;
  int64_t step = 0;
  nlohmann::json content;
};

// Something computed from a run's model after training: a routing profile, an evaluation, a
// reassignment table (kinds routing_profile, evaluation, reassignment). `label` says what was
// measured ("valid", "wikitext-2 test strided 256/128", "lambada"); content is the result JSON.
struct AnalysisRecord {
  int64_t id = 0, run = 0;
  std::string kind, label, createdAt;
  nlohmann::json content;
};

// The SQLite experiment database: experiments, runs, params, metrics (one row per run/key/step,
// upserted), latest metric per run/key, artifacts, sweeps and their points. One writer connection
// (WAL, so readers in other connections never block it); run statuses: queued running finished
// failed interrupted diverged pruned.
class ExperimentStore {
 public:
  static constexpr int kSchemaVersion = 6;
  static constexpr int kApplicationId = 0x4D6F454C;  // "MoEL" in the SQLite header (PRAGMA application_id)

  // Opens (creating and migrating as needed) and marks runs whose process is gone `interrupted`.
  // readOnly opens an existing file and never writes to it (no schema, no WAL switch, no status
  // marks: stale runs are reported as interrupted). Throws UserError if the file is not a MoE Lab
  // database, std::runtime_error on SQLite failures.
  explicit ExperimentStore(const std::string& path, bool readOnly = false);
  ~ExperimentStore();
  ExperimentStore(const ExperimentStore&) = delete;
  ExperimentStore& operator=(const ExperimentStore&) = delete;

  int schemaVersion() const;
  // A run of a sweep names its sweep and point, recorded in the same insert (a kill between the
  // two cannot leave a sweep's run unaccounted for).
  int64_t createRun(const std::string& experiment, const std::string& name, const nlohmann::json& config,
                    const std::string& status = "running", int64_t sweepId = 0, int64_t sweepIndex = -1);
  void setStatus(int64_t run, const std::string& status, const std::string& error = "");
  void setProvenance(int64_t run, const nlohmann::json& provenance);
  void setCheckpointDir(int64_t run, const std::string& dir);
  void heartbeat(int64_t run, int64_t step);
  void logParams(int64_t run, const nlohmann::json& flatParams);
  void logMetrics(int64_t run, const std::vector<MetricPoint>& points);  // one transaction
  void deleteMetricsAfter(int64_t run, int64_t step);                    // resume: replaced later
  // A resume changed the config: the run's config becomes `config` (params follow) and the change
  // joins the run's history, in one transaction.
  void recordConfigChange(int64_t run, int64_t step, const nlohmann::json& changes,
                          const nlohmann::json& config, const std::string& note);
  std::vector<ConfigChangeRecord> configChanges(int64_t run) const;
  void putArtifact(int64_t run, const std::string& key, int64_t step, const nlohmann::json& content);

  std::vector<RunRecord> listRuns() const;
  std::vector<RunRecord> listRuns(const std::vector<int64_t>& ids) const;  // these runs, by id
  std::optional<RunRecord> run(int64_t id) const;
  std::vector<MetricPoint> metrics(int64_t run, const std::string& key = "") const;
  std::map<std::string, MetricPoint> latestMetrics(int64_t run) const;
  // A run's artifacts (all keys when `key` is empty) with step > afterStep, by key then step.
  std::vector<ArtifactRecord> artifacts(int64_t run, const std::string& key = "",
                                        int64_t afterStep = std::numeric_limits<int64_t>::min()) const;
  nlohmann::json params(int64_t run) const;
  // The run's best.pt (preferBest, when an evaluation produced one) or last.pt. Throws UserError
  // naming the run and folder when it has none.
  std::string checkpointPath(int64_t run, bool preferBest) const;

  // For live views (ExperimentStoreReads.cpp). `runs` restricts a query to those runs; nullptr
  // means every run.
  // The latest value of `keys` per run in one query, run -> key -> value.
  std::map<int64_t, std::map<std::string, double>> latestValues(
      const std::vector<std::string>& keys, const std::vector<int64_t>* runs = nullptr) const;
  // One metric's rows after a step (incremental chart updates).
  std::vector<MetricPoint> metricsAfter(int64_t run, const std::string& key, int64_t afterStep) const;
  // Each run's smallest finite value of a metric (best validation loss/perplexity), run -> value.
  std::map<int64_t, double> minimumValues(const std::string& key,
                                          const std::vector<int64_t>* runs = nullptr) const;
  // Each run's artifact `key` at its latest step, run -> content.
  std::map<int64_t, nlohmann::json> latestArtifacts(const std::string& key,
                                                    const std::vector<int64_t>* runs = nullptr) const;
  // What changes in a run while it lives (status, step, heartbeat, finish, error, latest metric
  // step), as one comparable string per run: a viewer re-reads only runs whose stamp changed.
  std::map<int64_t, std::string> runStamps() const;
  // SQLite's PRAGMA data_version: changes when another connection commits (cheap "anything new?").
  int64_t dataVersion() const;
  // The metric keys a run has logged.
  std::vector<std::string> metricKeys(int64_t run) const;
  // Runs left `running` by a process that is gone become `interrupted`; returns how many. Sweeps
  // left running by a gone process become interrupted too.
  int markStaleRuns();

  // Sweeps (ExperimentStoreSweeps.cpp). createSweep stores the spec and every point in one
  // transaction, the sweep `running` in this process.
  int64_t createSweep(const std::string& name, const nlohmann::json& spec,
                      const std::vector<SweepPointRecord>& points);
  // running (claims the sweep for this process), finished or interrupted.
  void setSweepStatus(int64_t sweep, const std::string& status);
  void setSweepPoint(int64_t sweep, int64_t index, const std::string& status, const std::string& error = "");
  std::vector<SweepRecord> listSweeps() const;
  std::optional<SweepRecord> sweep(int64_t id) const;
  std::vector<SweepPointRecord> sweepPoints(int64_t sweep) const;
  std::vector<RunRecord> sweepRuns(int64_t sweep) const;  // by point, then run id

  // Analyses (ExperimentStoreAnalyses.cpp). Throws UserError for an unknown run or kind.
  int64_t addAnalysis(int64_t run, const std::string& kind, const std::string& label,
                      const nlohmann::json& content);
  // A run's analyses of `kind` (all kinds when empty), oldest first.
  std::vector<AnalysisRecord> analyses(int64_t run, const std::string& kind = "") const;
  std::optional<AnalysisRecord> analysis(int64_t id) const;

 private:
  void exec(const std::string& sql) const;
  void writeParams(int64_t run, const nlohmann::json& flat);  // inside the caller's transaction
  void migrate();
  int identify() const;  // schema version; throws UserError for a file that is not ours
  std::vector<int64_t> staleRunIds(const char* table = "runs") const;
  RunRecord withUnrecordedStatus(RunRecord r) const;
  void withBusyRetry(const std::function<void()>& action) const;
  sqlite3* db_ = nullptr;
  std::string path_;
  bool readOnly_ = false;
  std::set<int64_t> staleUnrecorded_;  // read-only: runs found stale but not marked
  mutable std::recursive_mutex mutex_;
};

}  // namespace moelab
