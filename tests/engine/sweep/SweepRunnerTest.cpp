#include <QtTest/QtTest>
#include <sstream>

#include "TestSuite.h"
#include "engine/sweep/TinySweepConfig.h"
#include "store/ExperimentStore.h"
#include "sweep/SweepResults.h"
#include "sweep/SweepRunner.h"

using namespace moelab;

namespace {
struct Events : SweepListener {
  std::map<int64_t, std::string> ended;
  void onPointEnded(int64_t index, int64_t, const std::string& status, const std::string&) override {
    std::lock_guard<std::mutex> lock(m);
    ended[index] = status;
  }
  std::mutex m;
};
}  // namespace

// The sweep queue in-process: failures recorded while the sweep goes on, early stopping as
// `pruned` with curves kept, the seed's CSV columns. (kill -9 and resume: CliTest.)
class SweepRunnerTest : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  SweepOptions options() {
    SweepOptions o;
    o.dataDir = moelab::test::dataDir().toStdString();
    o.totalThreads = 2;
    return o;
  }
 private slots:
  void aFailingPointIsRecordedAndTheSweepGoesOn() {
    const std::string db = (dir_.path() + "/fail.db").toStdString();
    ExperimentStore store(db);
    // embed_dim 30: invalid (4 heads); 16384: refused before it starts (far more memory than the
    // machine has); 32 and 64 train. Two at a time, the two cores divided between them.
    auto spec = SweepSpec::fromJson(
        {{"name", "fail"},
         {"base", tinySweepBase(6)},
         {"max_concurrent", 2},
         {"parameters", {{{"key", "model.embed_dim"}, {"values", {30, 16384, 32, 64}}}}}});
    const int64_t id = SweepRunner::create(store, spec);
    Events events;
    SweepRunner runner(store, db, id, options(), &events);
    auto outcome = runner.run();
    QCOMPARE(runner.concurrency(), int64_t(2));
    QCOMPARE(runner.threadsPerRun(), int64_t(1));
    QVERIFY(!outcome.interrupted);
    QCOMPARE(outcome.counts["invalid"], int64_t(1));
    QCOMPARE(outcome.counts["refused"], int64_t(1));
    QCOMPARE(outcome.counts["finished"], int64_t(2));
    QCOMPARE(store.sweep(id)->status, std::string("finished"));
    auto table = SweepTable::load(store, id);
    QCOMPARE(table.rows.size(), size_t(4));
    QCOMPARE(table.rows[0].status, std::string("invalid"));
    QVERIFY(QString::fromStdString(table.rows[0].error).contains("divisor of model.embed_dim"));
    QCOMPARE(table.rows[1].status, std::string("refused"));
    QVERIFY2(QString::fromStdString(table.rows[1].error).contains("memory"), table.rows[1].error.c_str());
    QCOMPARE(events.ended[1], std::string("refused"));
    for (int i : {2, 3}) {
      const auto& r = table.rows[size_t(i)];
      QCOMPARE(r.status, std::string("finished"));
      QVERIFY(r.runId > 0 && std::isfinite(r.best) && r.parameters > 0);
      auto run = store.run(r.runId);
      QCOMPARE(run->sweepId, id);
      QCOMPARE(run->sweepIndex, int64_t(i));
      QCOMPARE(run->config["train"]["threads"].get<int>(), 1);  // cores divided among the runs
    }
    QVERIFY(table.bestRow == 2 || table.bestRow == 3);

    // The CSV: the seed's columns first, in its order, then the swept key; data_mode is the real
    // data set with its checksums.
    std::ostringstream csv;
    table.writeCsv(csv);
    std::istringstream lines(csv.str());
    std::string header, first, third;
    std::getline(lines, header);
    std::getline(lines, first);
    std::getline(lines, third);
    std::getline(lines, third);
    std::string expected;
    for (const auto& c : seedSweepColumns()) expected += (expected.empty() ? "" : ",") + c;
    QVERIFY2(header.rfind(expected + ",model.embed_dim,", 0) == 0, header.c_str());
    QVERIFY(QString::fromStdString(first).contains("divisor of model.embed_dim"));
    QVERIFY2(QString::fromStdString(third).contains("real wikitext-2; wiki.train.tokens sha256="),
             third.c_str());
  }
  void earlyStoppedRunsArePrunedAndKeepTheirCurves() {
    const std::string db = (dir_.path() + "/prune.db").toStdString();
    ExperimentStore store(db);
    // One at a time: the good learning rate runs first and sets the median; the tiny one is
    // worse than it at step 4 and stops there.
    auto spec =
        SweepSpec::fromJson({{"name", "prune"},
                             {"base", tinySweepBase(12)},
                             {"early_stopping", {{"method", "median"}, {"grace_steps", 4}, {"min_runs", 1}}},
                             {"parameters", {{{"key", "train.learning_rate"}, {"values", {3e-3, 1e-7}}}}}});
    const int64_t id = SweepRunner::create(store, spec);
    SweepRunner runner(store, db, id, options());
    auto outcome = runner.run();
    QCOMPARE(outcome.counts["finished"], int64_t(1));
    QCOMPARE(outcome.counts["pruned"], int64_t(1));
    auto table = SweepTable::load(store, id);
    const auto& pruned = table.rows[1];
    QCOMPARE(pruned.status, std::string("pruned"));
    QVERIFY2(QString::fromStdString(pruned.error).contains("median stopping at step 4"),
             pruned.error.c_str());
    QVERIFY(pruned.steps < 12);
    QVERIFY(!store.metrics(pruned.runId, "val/loss").empty());
    QVERIFY(!store.metrics(pruned.runId, "train/loss").empty());
    QCOMPARE(table.bestRow, 0);
    // Done points are not run again.
    SweepRunner again(store, db, id, options());
    auto second = again.run();
    QCOMPARE(second.counts["pruned"], int64_t(1));
    QCOMPARE(store.listRuns().size(), size_t(2));
  }
};

MOELAB_TEST_SUITE(SweepRunnerTest)
#include "SweepRunnerTest.moc"
