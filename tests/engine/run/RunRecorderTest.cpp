#include <sqlite3.h>

#include <QtTest/QtTest>

#include "TestSuite.h"
#include "data/DataLocator.h"
#include "data/LmDataset.h"
#include "run/RunRecorder.h"
#include "train/Trainer.h"

using namespace moelab;

namespace {

// A second connection that makes the database refuse metric and artifact rows, as a full disk or a
// damaged page would, until it is lifted.
class WriteRefusal {
 public:
  explicit WriteRefusal(const std::string& path) {
    sqlite3_open(path.c_str(), &db_);
    sqlite3_busy_timeout(db_, 5000);
    run("CREATE TRIGGER refuse_metrics BEFORE INSERT ON metrics BEGIN SELECT RAISE(ABORT, 'disk full "
        "(injected)'); END;"
        "CREATE TRIGGER refuse_artifacts BEFORE INSERT ON artifacts BEGIN SELECT RAISE(ABORT, 'disk full "
        "(injected)'); END;");
  }
  void lift() { run("DROP TRIGGER IF EXISTS refuse_metrics; DROP TRIGGER IF EXISTS refuse_artifacts;"); }
  ~WriteRefusal() {
    lift();
    sqlite3_close(db_);
  }

 private:
  void run(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "?";
      sqlite3_free(err);
      QFAIL(msg.c_str());
    }
  }
  sqlite3* db_ = nullptr;
};

struct WarningProbe : MetricSink {
  std::vector<std::string> warnings;
  void onWarning(const std::string& m) override { warnings.push_back(m); }
};

std::vector<MetricPoint> rows(int64_t step) {
  return {{"train/loss", step, 2.0 + double(step), 1.0}, {"val/loss", step, std::nan(""), 1.0}};
}

// A new database with one run, and where its spill file goes.
struct Fixture {
  QTemporaryDir dir;
  std::string db = dir.path().toStdString() + "/m.db", spill = dir.path().toStdString() + "/unsaved.jsonl";
  ExperimentStore store{db};
  int64_t run = store.createRun("e", "r", {{"train", {{"seed", 1}}}});
};

}  // namespace

// A database that refuses writes while a run trains costs no training and, in the end, no rows.
class RunRecorderTest : public QObject {
  Q_OBJECT
 private slots:
  void refusedWritesAreKeptAndRetried() {
    QTemporaryDir d;
    const std::string db = d.path().toStdString() + "/m.db";
    ExperimentStore store(db);
    const int64_t run = store.createRun("e", "r", {{"train", {{"seed", 1}}}});
    WarningProbe probe;
    RunRecorder recorder(store, run, &probe);
    {
      WriteRefusal refusal(db);
      recorder.onMetrics(rows(1));
      recorder.beforeCheckpoint(1);  // a durability point: tries at once
      recorder.onArtifact("routing/layer0", 1, {{"counts", {1, 2}}});
      QCOMPARE(recorder.pendingRows(), size_t(3));
      QCOMPARE(probe.warnings.size(), size_t(1));  // one warning, not one per attempt
      QVERIFY2(probe.warnings[0].find("disk full (injected)") != std::string::npos,
               probe.warnings[0].c_str());
      QVERIFY(store.metrics(run).empty());
    }
    recorder.onMetrics(rows(2));
    recorder.beforeCheckpoint(2);
    QCOMPARE(recorder.pendingRows(), size_t(0));
    QCOMPARE(store.metrics(run, "train/loss").size(), size_t(2));
    QVERIFY(std::isnan(store.metrics(run, "val/loss")[0].value));
    QCOMPARE(store.artifacts(run, "routing/layer0").size(), size_t(1));
    QVERIFY(probe.warnings.back().find("again") != std::string::npos);
  }

  void rowsAtACheckpointGoToTheSpillFileAndComeBackOnResume() {
    Fixture fx;
    const std::string &db = fx.db, &spill = fx.spill;
    ExperimentStore& store = fx.store;
    const int64_t run = fx.run;
    {
      WriteRefusal refusal(db);
      RunRecorder recorder(store, run);
      recorder.setSpillFile(spill);
      recorder.onMetrics(rows(3));
      recorder.beforeCheckpoint(3);  // refused: the rows must be durable anyway
      QVERIFY(QFile::exists(QString::fromStdString(spill)));
      QCOMPARE(recorder.pendingRows(), size_t(0));
      recorder.onMetrics(rows(5));
      recorder.beforeCheckpoint(5);
      // The process dies here (kill -9 leaves a torn line at worst).
      QFile f(QString::fromStdString(spill));
      QVERIFY(f.open(QIODevice::Append));
      f.write("{\"metric\":\"train/lo");
    }
    // A resume from the step-3 checkpoint: rows up to 3 come back, step 5 is re-run.
    RunRecorder resumed(store, run);
    resumed.setSpillFile(spill);
    QCOMPARE(resumed.recoverSpilled(3), size_t(2));
    QVERIFY(!QFile::exists(QString::fromStdString(spill)));
    auto loss = store.metrics(run, "train/loss");
    QCOMPARE(loss.size(), size_t(1));
    QCOMPARE(loss[0].step, int64_t(3));
    QCOMPARE(loss[0].value, 5.0);
  }

  void finalFlushSpillsAndNamesTheFile() {
    Fixture fx;
    const std::string &db = fx.db, &spill = fx.spill;
    ExperimentStore& store = fx.store;
    const int64_t run = fx.run;
    WriteRefusal refusal(db);
    RunRecorder recorder(store, run);
    recorder.setSpillFile(spill);
    recorder.setFinalRetrySeconds(0.3);
    recorder.onMetrics(rows(7));
    try {
      recorder.flush();
      QFAIL("a refused final flush returned");
    } catch (const std::runtime_error& e) {
      QVERIFY2(std::string(e.what()).find(spill) != std::string::npos, e.what());
      QVERIFY2(std::string(e.what()).find("--resume") != std::string::npos, e.what());
    }
    QVERIFY(QFile::exists(QString::fromStdString(spill)));
  }

  void aRunTrainsThroughARefusingDatabase() {
    auto cfg = ExperimentConfig::fromJson(
        {{"model",
          {{"embed_dim", 32},
           {"num_layers", 1},
           {"num_heads", 2},
           {"num_experts", 2},
           {"max_seq_length", 32}}},
         {"data", {{"tokenizer", "char"}, {"num_train_samples", 200}, {"num_eval_samples", 16}}},
         {"train", {{"batch_size", 8}, {"max_steps", 8}, {"eval_every", 4}, {"log_every", 1}, {"seed", 3}}}});
    auto data = LmDataset::load(cfg, DataLocator(test::dataDir().toStdString()));
    QTemporaryDir d;
    const std::string db = d.path().toStdString() + "/m.db";
    ExperimentStore store(db);
    const int64_t run = store.createRun("e", "r", cfg.json);
    WarningProbe probe;
    RunRecorder recorder(store, run, &probe);
    recorder.setSpillFile(d.path().toStdString() + "/ck/unsaved-metrics.jsonl");
    {
      WriteRefusal refusal(db);
      Trainer t(cfg, data, d.path().toStdString() + "/ck", &recorder);
      QVERIFY(t.run() == RunOutcome::Finished);  // the database never stopped the training
    }
    recorder.flush();
    QVERIFY(!probe.warnings.empty());
    QCOMPARE(store.metrics(run, "train/loss").size(), size_t(8));
    QCOMPARE(store.metrics(run, "val/loss").size(), size_t(2));  // steps 4 and 8
    QVERIFY(!store.artifacts(run, "checkpoint/last").empty());
  }
};

MOELAB_TEST_SUITE(RunRecorderTest)
#include "RunRecorderTest.moc"
