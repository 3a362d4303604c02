#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QProcess>
#include <QPushButton>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "TestSuite.h"
#include "charts/BarsWidget.h"
#include "charts/HeatmapWidget.h"
#include "sim/ScenarioForm.h"
#include "sim/SimulationResultView.h"
#include "sim/SimulatorPane.h"
#include "store/ExperimentStore.h"

using namespace moelab;
using namespace moelab::ui;

// The network simulator pane, driven through its widgets.
class SimulatorPaneTest : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;

  static QString preset(const QString& name) {
    return QString(MOELAB_SOURCE_DIR) + "/experiments/sim/" + name + ".json";
  }
  static bool simulate(SimulatorPane& pane, const std::function<void()>& trigger) {
    QSignalSpy done(&pane, &SimulatorPane::simulated);
    trigger();
    return done.wait(20000) && done.last().at(0).toBool();
  }

 private slots:
  void initTestCase() { QCoreApplication::setOrganizationName("MoE Lab tests"); }

  void presetFillsEveryChart() {
    SimulatorPane pane;
    pane.resize(1400, 900);
    pane.show();
    const int i = pane.presets()->findText("dgx-h100-zipf");
    QVERIFY(i > 0);
    pane.presets()->activated(i);
    QCOMPARE(pane.form()->config()["traffic"]["kind"].get<std::string>(), std::string("zipf"));
    QVERIFY(simulate(pane, [&] { pane.runButton()->click(); }));
    SimulationResultView* r = pane.results();
    const int gpus = pane.result()["gpus"].get<int>();
    QCOMPARE(int(r->dispatchBars()->values().size()), gpus);
    QCOMPARE(int(r->combineBars()->values().size()), gpus);
    // The slowest GPU is the one marked.
    const auto& d = r->dispatchBars()->values();
    QCOMPARE(r->dispatchBars()->highlight(), int(std::max_element(d.begin(), d.end()) - d.begin()));
    QCOMPARE(r->trafficMatrix()->rows(), gpus);
    QVERIFY(r->stepTimeChart()->chart()->series().size() == 4);  // histogram + P50/P95/P99
    QVERIFY(!r->breakdownChart()->chart()->series().isEmpty());
    QVERIFY(!r->comparisonChart()->chart()->series().isEmpty());
    QCOMPARE(r->comparisonTable()->rowCount(), int(pane.result()["comparison"].size()));
    QCOMPARE(r->comparisonTable()->item(0, 6)->text(), QString("1.00×"));
    // Per-collective figures straight from the result JSON: forward and backward exchanges.
    const auto& collectives = pane.result()["collectives"];
    QCOMPARE(r->collectivesTable()->rowCount(), int(collectives.size()));
    QCOMPARE(r->collectivesTable()->item(0, 0)->text(), QString("dispatch"));
    QCOMPARE(r->collectivesTable()->item(0, 6)->text(),
             QString::number(collectives[0]["busbw_GBps"].get<double>(), 'f', 1));
    // Exports: CSV (same as the CLI's), JSON, PNG of every chart.
    const QString csv = dir_.path() + "/sim.csv";
    QVERIFY(pane.exportCsv(csv));
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray fromPane = f.readAll();
    QCOMPARE(fromPane.count('\n'), 1 + qsizetype(pane.result()["comparison"].size()));
    // The CLI's --csv for the same scenario is the same file.
    QProcess cli;
    cli.start(MOELAB_CLI, {"simulate", preset("dgx-h100-zipf"), "--csv", dir_.path() + "/cli.csv"});
    QVERIFY(cli.waitForFinished(60000));
    QCOMPARE(cli.exitCode(), 0);
    QFile c(dir_.path() + "/cli.csv");
    QVERIFY(c.open(QIODevice::ReadOnly));
    QCOMPARE(fromPane, c.readAll());
    QVERIFY(pane.exportJson(dir_.path() + "/sim.json"));
    QVERIFY(r->saveChartsPng(dir_.path() + "/charts"));
    QVERIFY(QFile::exists(dir_.path() + "/charts/traffic-matrix.png"));
  }

  // The algorithm is a form field like any other; comparisons that cannot differ are named, not run.
  void algorithmChoiceAndAbsentComparisonsAreShown() {
    SimulatorPane pane;
    pane.resize(1400, 900);
    pane.show();
    QVERIFY(pane.loadScenarioFile(preset("dgx-h100-uniform")));
    auto cfg = pane.form()->config();
    cfg["comm"]["algorithm"] = "hierarchical";
    pane.form()->setConfig(cfg);
    QVERIFY(simulate(pane, [&] { pane.runButton()->click(); }));
    QCOMPARE(pane.result()["algorithm"].get<std::string>(), std::string("hierarchical"));
    SimulationResultView* r = pane.results();
    QCOMPARE(r->collectivesTable()->horizontalHeaderItem(7)->text(), QString("node copies / token"));
    QVERIFY(r->skippedNote()->isVisible());
    QVERIFY2(r->skippedNote()->text().contains("nothing to rebalance"), qPrintable(r->skippedNote()->text()));
    bool flatRow = false;
    for (int i = 0; i < r->comparisonTable()->rowCount(); ++i)
      flatRow |= r->comparisonTable()->item(i, 0)->text() == "algorithm flat";
    QVERIFY(flatRow);
  }

  void invalidScenarioIsRefusedWithTheEnginesMessage() {
    SimulatorPane pane;
    pane.form()->setConfig({{"model", {{"num_experts", 4}}}, {"traffic", {{"kind", "gini"}, {"gini", 0.9}}}});
    QVERIFY(!pane.form()->isValid());
    QVERIFY(!pane.runButton()->isEnabled());
    QVERIFY2(pane.form()->error().contains("traffic.gini"), qPrintable(pane.form()->error()));
  }

  void runRoutingReproducesTheCli() {
    const QString db = dir_.path() + "/routing.db";
    int64_t run = 0;
    {
      ExperimentStore s(db.toStdString());
      run = s.createRun("e", "routed",
                        {{"model", {{"architecture", "sparse_moe"}, {"num_experts", 8}, {"top_k", 2}}}});
      s.putArtifact(
          run, "expert_counts", 10,
          {{"layers", {{900, 40, 30, 20, 10, 10, 50, 140}, {150, 150, 120, 130, 150, 100, 110, 90}}}});
      s.putArtifact(
          run, "expert_counts", 20,
          {{"layers", {{400, 100, 80, 120, 90, 60, 70, 280}, {150, 150, 120, 130, 150, 100, 110, 90}}}});
    }
    SimulatorPane pane;
    pane.setDatabase(db);
    RunSummary summary;
    summary.id = run;
    summary.name = "routed";
    summary.architecture = "sparse_moe";
    pane.mergeRuns({summary}, true);
    QCOMPARE(pane.routingRuns()->count(), 1);
    QVERIFY(pane.loadScenarioFile(preset("dgx-h100-uniform")));
    QVERIFY(simulate(pane, [&] { pane.useRunRouting(run, 10); }));
    const auto cfg = pane.form()->config();
    QCOMPARE(cfg["traffic"]["kind"].get<std::string>(), std::string("counts"));
    QCOMPARE(cfg["model"]["num_experts"].get<int>(), 8);
    QCOMPARE(cfg["model"]["layers"].get<int>(), 2);

    QProcess cli;
    cli.start(MOELAB_CLI, {"simulate", preset("dgx-h100-uniform"), "--traffic-from-run", QString::number(run),
                           "--step", "10", "--db", db, "--json"});
    QVERIFY(cli.waitForFinished(60000));
    QCOMPARE(cli.exitCode(), 0);
    const auto fromCli = nlohmann::json::parse(cli.readAllStandardOutput().toStdString());
    QCOMPARE(fromCli["step_ms"]["mean"].get<double>(), pane.result()["step_ms"]["mean"].get<double>());
    QCOMPARE(fromCli["comparison"].dump(), pane.result()["comparison"].dump());
    // A step with no counts is a clear error naming the stored steps.
    QSignalSpy loaded(&pane, &SimulatorPane::routingLoaded);
    pane.useRunRouting(run, 15);
    QVERIFY(loaded.wait(10000));
    QVERIFY(!loaded.last().at(0).toBool());
    QVERIFY(loaded.last().at(1).toString().contains("no expert counts at step 15"));
  }
};
MOELAB_TEST_SUITE(SimulatorPaneTest)
#include "SimulatorPaneTest.moc"
