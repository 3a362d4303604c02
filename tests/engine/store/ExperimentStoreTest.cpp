#include <sqlite3.h>

#include <QtTest/QtTest>
#include <atomic>
#include <cmath>
#include <mutex>
#include <thread>

#include "TestSuite.h"
#include "config/ExperimentConfig.h"
#include "store/ExperimentStore.h"
#include "util/Errors.h"

using namespace moelab;

class ExperimentStoreTest : public QObject {
  Q_OBJECT
 private slots:
  void createsCurrentSchemaWithWal() {
    QTemporaryDir dir;
    std::string path = dir.path().toStdString() + "/x.db";
    ExperimentStore s(path);
    QCOMPARE(s.schemaVersion(), ExperimentStore::kSchemaVersion);
    sqlite3* db;
    sqlite3_open(path.c_str(), &db);
    sqlite3_stmt* st;
    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr);
    sqlite3_step(st);
    QCOMPARE(QString(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))), QString("wal"));
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  void migratesVersionOneAndBackfillsLatest() {
    QTemporaryDir dir;
    std::string path = dir.path().toStdString() + "/v1.db";
    sqlite3* db;
    sqlite3_open(path.c_str(), &db);
    const char* v1 =
        "CREATE TABLE experiments(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at TEXT NOT "
        "NULL);"
        "CREATE TABLE runs(id INTEGER PRIMARY KEY, experiment_id INTEGER NOT NULL, name TEXT NOT NULL, "
        "status TEXT "
        "NOT NULL, config TEXT NOT NULL, created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT, "
        "heartbeat_at "
        "TEXT, step INTEGER NOT NULL DEFAULT 0, pid INTEGER, host TEXT, provenance TEXT, error TEXT, "
        "checkpoint_dir TEXT);"
        "CREATE TABLE params(run_id INTEGER NOT NULL, key TEXT NOT NULL, value TEXT, PRIMARY KEY(run_id, "
        "key));"
        "CREATE TABLE metrics(run_id INTEGER NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL, value REAL, "
        "kind "
        "INTEGER NOT NULL DEFAULT 0, wall_time REAL NOT NULL, PRIMARY KEY(run_id, key, step)) WITHOUT ROWID;"
        "INSERT INTO experiments VALUES(1, 'old', '2026-01-01T00:00:00Z');"
        "INSERT INTO runs(id, experiment_id, name, status, config, created_at) VALUES(1, 1, 'old', "
        "'finished', '{}', 'x');"
        "INSERT INTO metrics VALUES(1, 'train/loss', 10, 5.0, 0, 1.0), (1, 'train/loss', 20, 4.0, 0, 2.0);"
        "PRAGMA user_version=1;";
    QCOMPARE(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    ExperimentStore s(path);
    QCOMPARE(s.schemaVersion(), ExperimentStore::kSchemaVersion);
    auto latest = s.latestMetrics(1);
    QCOMPARE(latest["train/loss"].step, int64_t(20));
    QCOMPARE(latest["train/loss"].value, 4.0);
    s.putArtifact(1, "adjacency", 20, {{"layers", {1, 2}}});
    QCOMPARE(s.artifacts(1).size(), size_t(1));
    QCOMPARE(s.minimumValues("train/loss")[1], 4.0);  // v4 backfilled the best value
  }

  void bestValuesAndChangeStampsFollowTheRows() {
    QTemporaryDir dir;
    const std::string path = dir.path().toStdString() + "/best.db";
    ExperimentStore w(path);
    const int64_t a = w.createRun("e", "a", nlohmann::json::object());
    const int64_t b = w.createRun("e", "b", nlohmann::json::object());
    const double nan = std::numeric_limits<double>::quiet_NaN();
    w.logMetrics(a, {{"val/loss", 10, 3.0, 1}, {"val/loss", 20, 2.0, 2}, {"val/loss", 30, nan, 3}});
    w.logMetrics(b, {{"val/loss", 10, 5.0, 1}});
    ExperimentStore r(path, /*readOnly=*/true);
    auto best = r.minimumValues("val/loss");
    QCOMPARE(best[a], 2.0);  // NaN rows are not a minimum
    QCOMPARE(best[b], 5.0);
    const std::vector<int64_t> onlyB{b};
    QCOMPARE(r.minimumValues("val/loss", &onlyB).size(), size_t(1));
    QCOMPARE(r.latestValues({"val/loss"}, &onlyB).count(a), size_t(0));
    QCOMPARE(r.listRuns(onlyB).size(), size_t(1));
    // A resume drops the rows after its checkpoint: the best value is recomputed.
    w.deleteMetricsAfter(a, 10);
    QCOMPARE(r.minimumValues("val/loss")[a], 3.0);
    // Stamps move for the run that changed, not for the other; data_version tells a reader
    // that another connection committed.
    const auto stamps = r.runStamps();
    const int64_t version = r.dataVersion();
    QCOMPARE(r.dataVersion(), version);
    w.logMetrics(b, {{"val/loss", 20, 4.0, 2}});
    QVERIFY(r.dataVersion() != version);
    const auto after = r.runStamps();
    QCOMPARE(after.at(a), stamps.at(a));
    QVERIFY(after.at(b) != stamps.at(b));
  }
  void refusesForeignDatabases() {
    QTemporaryDir dir;
    std::string path = dir.path().toStdString() + "/other.db";
    sqlite3* db;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db, "CREATE TABLE mine(x)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    auto bytes = [&] {
      QFile f(QString::fromStdString(path));
      f.open(QIODevice::ReadOnly);
      return f.readAll();
    };
    const QByteArray before = bytes();
    try {
      ExperimentStore s(path);
      QFAIL("expected UserError");
    } catch (const UserError& e) {
      QVERIFY(QString(e.what()).contains("not a MoE Lab experiment database (nothing was changed)"));
    }
    QCOMPARE(bytes(), before);  // not switched to WAL, no schema written
    QVERIFY(!QFile::exists(QString::fromStdString(path + "-wal")));
  }
  void concurrentCreatorsOfOneNewDatabaseAllSucceed() {
    // Several processes (here: connections on threads) opening the same new file at once must
    // all get the one schema; none may fail with "table ... already exists".
    QTemporaryDir dir;
    for (int round = 0; round < 10; ++round) {
      const std::string path = dir.path().toStdString() + "/race" + std::to_string(round) + ".db";
      std::atomic<int> ready{0};
      std::mutex m;
      std::vector<std::string> errors;
      std::vector<std::thread> threads;
      for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
          ++ready;
          while (ready.load() < 4) std::this_thread::yield();
          try {
            ExperimentStore s(path);
            s.createRun("e", "r", nlohmann::json::object());
          } catch (const std::exception& e) {
            std::lock_guard<std::mutex> lock(m);
            errors.push_back(e.what());
          }
        });
      for (auto& t : threads) t.join();
      QVERIFY2(errors.empty(), errors.empty() ? "" : errors[0].c_str());
      ExperimentStore s(path);
      QCOMPARE(s.listRuns().size(), size_t(4));
      QCOMPARE(s.schemaVersion(), ExperimentStore::kSchemaVersion);
    }
  }
  void upsertReplacesAndNonFiniteValuesSurvive() {
    QTemporaryDir dir;
    ExperimentStore s(dir.path().toStdString() + "/m.db");
    int64_t run = s.createRun("exp", "r", {{"a", 1}});
    s.logMetrics(run,
                 {{"loss", 1, 3.0, 1}, {"loss", 2, 2.0, 2}, {"loss", 3, NAN, 3}, {"gn", 3, INFINITY, 3}});
    s.logMetrics(run, {{"loss", 2, 2.5, 4}});
    auto m = s.metrics(run, "loss");
    QCOMPARE(m.size(), size_t(3));
    QCOMPARE(m[1].value, 2.5);
    QVERIFY(std::isnan(m[2].value));
    QVERIFY(std::isinf(s.metrics(run, "gn")[0].value));
    QVERIFY(std::isnan(s.latestMetrics(run)["loss"].value));
    s.deleteMetricsAfter(run, 1);
    QCOMPARE(s.metrics(run, "loss").size(), size_t(1));
    QCOMPARE(s.latestMetrics(run)["loss"].step, int64_t(1));
  }
  void analysesAreKeptPerRunAndKind() {
    QTemporaryDir dir;
    const std::string path = dir.path().toStdString() + "/a.db";
    int64_t run = 0, id = 0;
    {
      ExperimentStore s(path);
      run = s.createRun("exp", "r", {{"a", 1}});
      id = s.addAnalysis(run, "routing_profile", "valid none", {{"gini", 0.4}});
      s.addAnalysis(run, "evaluation", "lambada", {{"accuracy", 0.1}});
      s.addAnalysis(run, "routing_profile", "valid balanced", {{"gini", 0.1}});
      QVERIFY_THROWS_EXCEPTION(UserError, s.addAnalysis(run, "guess", "x", {}));
      QVERIFY_THROWS_EXCEPTION(UserError, s.addAnalysis(run + 7, "evaluation", "x", {}));
    }
    ExperimentStore reader(path, /*readOnly=*/true);
    const auto profiles = reader.analyses(run, "routing_profile");
    QCOMPARE(profiles.size(), size_t(2));
    QCOMPARE(profiles[1].label, std::string("valid balanced"));
    QCOMPARE(profiles[1].content["gini"].get<double>(), 0.1);
    QCOMPARE(reader.analyses(run).size(), size_t(3));
    QCOMPARE(reader.analysis(id)->kind, std::string("routing_profile"));
    QVERIFY(!reader.analysis(id + 10));
  }
  void configChangesUpdateTheRunAndKeepAHistory() {
    QTemporaryDir dir;
    ExperimentStore s(dir.path().toStdString() + "/c.db");
    nlohmann::json cfg = {{"train", {{"max_steps", 6}, {"threads", 0}}}};
    auto id = s.createRun("e", "r", cfg);
    s.logParams(id, flattenConfig(cfg));
    auto changed = cfg;
    changed["train"]["max_steps"] = 10;
    s.recordConfigChange(id, 6, {{{"key", "train.max_steps"}, {"before", 6}, {"after", 10}}}, changed,
                         "--extend");
    QCOMPARE(s.run(id)->config["train"]["max_steps"].get<int>(), 10);
    QCOMPARE(QString::fromStdString(s.params(id)["train.max_steps"]), QString("10"));
    auto history = s.configChanges(id);
    QCOMPARE(history.size(), size_t(1));
    QCOMPARE(history[0].step, int64_t(6));
    QCOMPARE(QString::fromStdString(history[0].note), QString("--extend"));
    QVERIFY_THROWS_EXCEPTION(UserError, s.recordConfigChange(99, 0, nlohmann::json::array(), cfg, ""));
    QVERIFY(s.configChanges(99).empty());
  }
  void runsOfDeadProcessesBecomeInterrupted() {
    QTemporaryDir dir;
    std::string path = dir.path().toStdString() + "/s.db";
    int64_t live, dead, reused;
    {
      ExperimentStore s(path);
      live = s.createRun("exp", "live", {});
      dead = s.createRun("exp", "dead", {});
      reused = s.createRun("exp", "reused", {});
    }
    // Pretend `dead` was started by a process that no longer exists, and `reused` by one whose pid
    // now belongs to another program (a `sleep`).
    QProcess other;
    other.start("sleep", {"30"});
    QVERIFY(other.waitForStarted());
    sqlite3* db;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db, ("UPDATE runs SET pid = 999999999 WHERE id = " + std::to_string(dead)).c_str(), nullptr,
                 nullptr, nullptr);
    sqlite3_exec(db,
                 ("UPDATE runs SET pid = " + std::to_string(other.processId()) +
                  " WHERE id = " + std::to_string(reused))
                     .c_str(),
                 nullptr, nullptr, nullptr);
    sqlite3_close(db);
    ExperimentStore s(path);
    QCOMPARE(QString::fromStdString(s.run(dead)->status), QString("interrupted"));
    QCOMPARE(QString::fromStdString(s.run(reused)->status), QString("interrupted"));
    QCOMPARE(QString::fromStdString(s.run(live)->status), QString("running"));  // this process is alive
    other.kill();
    other.waitForFinished();
  }
  void readersSeeCommittedDataWhileWriterIsOpen() {
    QTemporaryDir dir;
    std::string path = dir.path().toStdString() + "/r.db";
    ExperimentStore writer(path);
    int64_t run = writer.createRun("exp", "r", {});
    writer.logMetrics(run, {{"loss", 1, 1.0, 1}});
    ExperimentStore reader(path, /*readOnly=*/true);
    QCOMPARE(reader.metrics(run).size(), size_t(1));
    writer.logMetrics(run, {{"loss", 2, 0.5, 2}});
    QCOMPARE(reader.metrics(run).size(), size_t(2));
  }
};
MOELAB_TEST_SUITE(ExperimentStoreTest)
#include "ExperimentStoreTest.moc"
