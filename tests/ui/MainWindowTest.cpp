#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTableView>
#include <QTableWidget>
#include <QtTest/QtTest>

#include "MainWindow.h"
#include "TestSuite.h"
#include "charts/MetricChart.h"
#include "compare/ComparePane.h"
#include "experiment/ExperimentForm.h"
#include "experiment/ExperimentPane.h"
#include "run/RunPage.h"
#include "runs/RunsPane.h"
#include "runs/RunsTableModel.h"
#include "store/DatabaseSession.h"
#include "store/ExperimentStore.h"

using namespace moelab;
using namespace moelab::ui;

namespace {
nlohmann::json tinyConfig(int steps) {
  return {
      {"model",
       {{"embed_dim", 32}, {"num_layers", 1}, {"num_heads", 2}, {"num_experts", 2}, {"max_seq_length", 32}}},
      {"data", {{"tokenizer", "char"}, {"num_train_samples", 400}, {"num_eval_samples", 32}}},
      {"train",
       {{"batch_size", 8},
        {"max_steps", steps},
        {"eval_every", 10},
        {"log_every", 1},
        {"seed", 1},
        {"max_batches_per_epoch", 1000},
        {"epochs", 50}}}};
}
}  // namespace

// The app as a user drives it: start a run from the editor, watch it, stop, resume, and see runs
// that another process writes.
class MainWindowTest : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;

 private slots:
  void initTestCase() {
    qputenv("MOELAB_DATA_DIR", test::dataDir().toUtf8());
    QCoreApplication::setOrganizationName("MoE Lab tests");
  }

  void aRunStartedFromTheEditorTrainsAndIsCharted() {
    MainWindow w;
    w.setQuiet(true);
    QVERIFY(w.openDatabase(dir_.path() + "/ui.db"));
    w.show();
    w.experimentPane()->setConfig(tinyConfig(20), "tiny");
    QSignalSpy ended(&w, &MainWindow::runEnded);
    QSignalSpy refused(&w, &MainWindow::runRefused);
    QTest::mouseClick(w.experimentPane()->startButton(), Qt::LeftButton);
    QVERIFY2(ended.wait(120000),
             refused.isEmpty() ? "no end" : qPrintable(refused.first().first().toString()));
    QCOMPARE(ended.first().at(1).toString(), QString("finished"));
    QCOMPARE(w.tabs()->currentWidget(), static_cast<QWidget*>(w.runPage()));
    // The chart receives the run's rows through the poller.
    QTRY_VERIFY_WITH_TIMEOUT(w.runPage()->chart("train/loss")->pointCount("run 1") == 20, 5000);
    QTRY_VERIFY_WITH_TIMEOUT(w.runPage()->chart("val/loss")->pointCount("run 1") == 2, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(w.runsModel()->rowCount(), 1, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(w.runsModel()->runAt(0)->status, QString("finished"), 5000);
    QCOMPARE(w.runsModel()->runAt(0)->totalSteps, int64_t(20));
  }

  void stopEndsWithinAStepAndResumeContinues() {
    MainWindow w;
    w.setQuiet(true);
    QVERIFY(w.openDatabase(dir_.path() + "/stop.db"));
    w.show();
    QSignalSpy ended(&w, &MainWindow::runEnded);
    w.startRun(tinyConfig(100000), "long", "to be stopped");
    QTRY_VERIFY_WITH_TIMEOUT(w.runPage()->stopButton()->isEnabled(), 60000);
    QTest::qWait(300);
    QTest::mouseClick(w.runPage()->stopButton(), Qt::LeftButton);
    QVERIFY(ended.wait(30000));
    QCOMPARE(ended.last().at(1).toString(), QString("interrupted"));
    const qint64 id = ended.last().at(0).toLongLong();
    auto run = w.session()->store().run(id);
    QVERIFY(run->step > 0 && run->step < 100000);
    QVERIFY(QFile::exists(QString::fromStdString(run->checkpointDir) + "/last.pt"));
    // Resume continues from the checkpoint (and is stopped again: its horizon is far away).
    QTRY_VERIFY_WITH_TIMEOUT(w.runPage()->resumeButton()->isEnabled(), 5000);
    QTest::mouseClick(w.runPage()->resumeButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(w.runPage()->stopButton()->isEnabled(), 60000);
    QTest::mouseClick(w.runPage()->stopButton(), Qt::LeftButton);
    QVERIFY(ended.wait(30000));
    QCOMPARE(ended.last().at(1).toString(), QString("interrupted"));
    QVERIFY(w.session()->store().run(id)->step >= run->step);
  }

  void aRunWithTwoRanksIsOneRunWithEachRanksTimings() {
    MainWindow w;
    w.setQuiet(true);
    QVERIFY(w.openDatabase(dir_.path() + "/ranks.db"));
    w.show();
    w.experimentPane()->setConfig(tinyConfig(100000), "ranked");
    w.experimentPane()->ranksBox()->setValue(2);
    QSignalSpy ended(&w, &MainWindow::runEnded);
    QSignalSpy refused(&w, &MainWindow::runRefused);
    QTest::mouseClick(w.experimentPane()->startButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(w.runPage()->stopButton()->isEnabled() || !refused.isEmpty(), 60000);
    QVERIFY2(refused.isEmpty(), refused.isEmpty() ? "" : qPrintable(refused.first().first().toString()));
    // Both ranks' step split is charted, live.
    MetricChart* ranks = w.runPage()->chart("dist/ranks");
    QVERIFY(ranks && ranks->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(
        ranks->pointCount("r0 compute") >= 3 && ranks->pointCount("r1 idle") >= 3, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(w.runPage()->chart("train/loss")->pointCount("run 1") >= 3, 5000);
    // Stop reaches every rank (a checkpoint is saved); Resume continues on two ranks.
    QTest::mouseClick(w.runPage()->stopButton(), Qt::LeftButton);
    QVERIFY(ended.wait(60000));
    QCOMPARE(ended.last().at(1).toString(), QString("interrupted"));
    const auto first = w.session()->store().run(1);
    QVERIFY(first->step > 0);
    QVERIFY(QFile::exists(QString::fromStdString(first->checkpointDir) + "/last.pt"));
    QTRY_VERIFY_WITH_TIMEOUT(w.runPage()->resumeButton()->isEnabled(), 5000);
    QTest::mouseClick(w.runPage()->resumeButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(w.runPage()->stopButton()->isEnabled(), 60000);
    QTRY_VERIFY_WITH_TIMEOUT(w.session()->store().run(1)->step > first->step, 30000);
    QTest::mouseClick(w.runPage()->stopButton(), Qt::LeftButton);
    QVERIFY(ended.wait(60000));
    QCOMPARE(ended.last().at(1).toString(), QString("interrupted"));
    QCOMPARE(w.runsModel()->rowCount(), 1);  // one run, however many ranks
  }

  void runsWrittenByAnotherProcessAppear() {
    MainWindow w;
    w.setQuiet(true);
    const QString db = dir_.path() + "/shared.db";
    QVERIFY(w.openDatabase(db));
    QTRY_COMPARE_WITH_TIMEOUT(w.runsModel()->rowCount(), 0, 3000);
    {
      ExperimentStore other(db.toStdString());  // another writer, as `moelab-cli train --db` is
      const int64_t run = other.createRun("cli", "from the CLI", tinyConfig(5));
      other.logMetrics(run, {{"train/loss", 1, 3.5, 1.0}});
    }
    QTRY_COMPARE_WITH_TIMEOUT(w.runsModel()->rowCount(), 1, 5000);
    QCOMPARE(w.runsModel()->runAt(0)->name, QString("from the CLI"));
    QTRY_COMPARE_WITH_TIMEOUT(w.runsModel()->runAt(0)->trainLoss, 3.5, 5000);
    // Filters work through the pane's widgets.
    w.runsPane()->textFilter()->setText("nothing like it");
    QCOMPARE(w.runsPane()->proxy()->rowCount(), 0);
    w.runsPane()->textFilter()->setText("CLI");
    QCOMPARE(w.runsPane()->proxy()->rowCount(), 1);
  }

  void aRunsEvaluationsAreListedOnItsPage() {
    MainWindow w;
    w.setQuiet(true);
    const QString db = dir_.path() + "/evaluated.db";
    int64_t run = 0;
    {
      ExperimentStore other(db.toStdString());  // as `moelab-cli eval --run` writes them
      run = other.createRun("cli", "evaluated", tinyConfig(5));
      other.addAnalysis(run, "evaluation", "test strided 32/16",
                        {{"task", "perplexity"},
                         {"mode", "strided"},
                         {"source", "test"},
                         {"perplexity", 123.456},
                         {"context_length", 32},
                         {"stride", 16},
                         {"tokens", 999}});
      other.addAnalysis(run, "evaluation", "lambada",
                        {{"task", "lambada"}, {"accuracy", 0.125}, {"passages", 8}, {"perplexity", 77.0}});
    }
    QVERIFY(w.openDatabase(db));
    w.showRun(run);
    auto* table = w.runPage()->analysesTable();
    QCOMPARE(table->rowCount(), 2);
    QCOMPARE(table->item(0, 2)->text(),
             QString("LAMBADA accuracy 12.50% (8 passages), word perplexity 77.00"));
    QCOMPARE(table->item(1, 2)->text(),
             QString("perplexity 123.46 on test (strided, context 32, stride 16, 999 tokens)"));
  }

  void missingDataIsOfferedNotStarted() {
    MainWindow w;
    w.setQuiet(true);
    QVERIFY(w.openDatabase(dir_.path() + "/missing.db"));
    QSignalSpy missing(&w, &MainWindow::dataMissing);
    auto cfg = tinyConfig(5);
    cfg["data"]["dataset"] = "wikitext-103";  // not in the data folder
    w.startRun(cfg, "missing", "");
    QVERIFY(missing.wait(30000));
    QCOMPARE(missing.first().at(0).toString(), QString("wikitext-103"));  // the folder
    QCOMPARE(missing.first().at(1).toString(), QString("wikitext-103"));  // what to fetch
    QCOMPARE(w.liveRuns(), 0);
    QCOMPARE(w.session()->store().listRuns().size(), size_t(0));  // nothing recorded
  }

  // First start: an empty database shows "Start the quickstart" instead of an empty table; with no
  // data on the machine the click ends in the fetch offer (dataMissing in quiet mode), not a run.
  void firstStartOffersTheQuickstartAndTheFetch() {
    QTemporaryDir noData, home;
    const QByteArray savedData = qgetenv("MOELAB_DATA_DIR"), savedHome = qgetenv("HOME");
    // The environment changes only while no window (and none of its threads) exists: getenv on a
    // worker thread racing setenv here would crash.
    qunsetenv("MOELAB_DATA_DIR");
    qputenv("HOME", home.path().toUtf8());  // no ~/.local/share/moelab/data either
    bool emptyShown = false, tableHidden = false, offered = false;
    bool quickstartLoaded = false, nothingRecorded = false;
    QString label, loadedText;
    {
      MainWindow w;
      w.setQuiet(true);
      w.setDataDirectory(noData.path());
      if (w.openDatabase(dir_.path() + "/first.db")) {
        RunsPane* runs = w.runsPane();
        emptyShown = !runs->emptyState()->isHidden();
        tableHidden = runs->view()->isHidden();
        label = runs->quickstartButton()->text();
        QSignalSpy missing(&w, &MainWindow::dataMissing);
        QTest::mouseClick(runs->quickstartButton(), Qt::LeftButton);
        offered = missing.wait(30000);
        QTRY_COMPARE_WITH_TIMEOUT(w.liveRuns(), 0, 30000);
        const nlohmann::json loaded = w.experimentPane()->form()->config();  // experiments/quickstart.json
        loadedText = QString::fromStdString(loaded.dump());
        quickstartLoaded = w.tabs()->currentWidget() == w.experimentPane() &&
                           loaded.value("/model/embed_dim"_json_pointer, 0) == 128 &&
                           loaded.value("/data/dataset"_json_pointer, std::string()) == "wikitext-2";
        nothingRecorded = w.session()->store().listRuns().empty() && !runs->emptyState()->isHidden();
      }
    }
    qputenv("MOELAB_DATA_DIR", savedData);
    qputenv("HOME", savedHome);
    QVERIFY(emptyShown);
    QVERIFY(tableHidden);
    QCOMPARE(label, QString("Start the quickstart"));
    QVERIFY(offered);
    QVERIFY2(quickstartLoaded, qPrintable(loadedText.left(300)));
    QVERIFY(nothingRecorded);
  }

  void aBadConfigIsRefusedWithTheEnginesMessage() {
    MainWindow w;
    w.setQuiet(true);
    QVERIFY(w.openDatabase(dir_.path() + "/bad.db"));
    QSignalSpy refused(&w, &MainWindow::runRefused);
    auto cfg = tinyConfig(5);
    cfg["model"]["num_heads"] = 3;  // 32 is not divisible by 3
    w.startRun(cfg, "bad", "");
    QVERIFY(refused.wait(30000));
    QVERIFY2(refused.first().first().toString().contains("num_heads"),
             qPrintable(refused.first().first().toString()));
    QCOMPARE(w.liveRuns(), 0);
  }

  void selectedRunsAreComparedFromTheTable() {
    MainWindow w;
    w.setQuiet(true);
    const QString db = dir_.path() + "/compare.db";
    {
      ExperimentStore s(db.toStdString());
      for (int i = 0; i < 3; ++i) s.createRun("e", "run " + std::to_string(i), tinyConfig(5 + i));
    }
    QVERIFY(w.openDatabase(db));
    w.show();
    QTRY_COMPARE_WITH_TIMEOUT(w.runsModel()->rowCount(), 3, 5000);
    QVERIFY(!w.runsPane()->compareButton()->isEnabled());
    w.runsPane()->view()->selectAll();
    QVERIFY(w.runsPane()->compareButton()->isEnabled());
    QSignalSpy loaded(w.comparePane(), &ComparePane::loaded);
    QTest::mouseClick(w.runsPane()->compareButton(), Qt::LeftButton);
    QVERIFY(loaded.wait(10000));
    QCOMPARE(w.tabs()->currentWidget(), static_cast<QWidget*>(w.comparePane()));
    QCOMPARE(w.comparePane()->data().table.runs.size(), size_t(3));
    QCOMPARE(w.comparePane()->data().table.differingConfigFields(), size_t(1));  // train.max_steps
  }
};

MOELAB_TEST_SUITE(MainWindowTest)
#include "MainWindowTest.moc"
