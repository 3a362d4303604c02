#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QtTest/QtTest>
#include <nlohmann/json.hpp>

#include "TestSuite.h"
#include "charts/BarsWidget.h"
#include "charts/HeatmapWidget.h"
#include "engine/cli/CliHarness.h"
#include "profile/ReassignmentView.h"
#include "profile/RoutingProfilePane.h"
#include "profile/RoutingProfileView.h"
#include "sim/ScenarioForm.h"
#include "sim/SimulatorPane.h"
#include "store/ExperimentStore.h"

using namespace moelab;
using namespace moelab::ui;

// The Routing profile pane, driven through its widgets on a tiny sparse run trained by the CLI:
// the profile it makes is the CLI's, it is stored, drawn, compared, exported and simulated.
class RoutingProfilePaneTest : public CliHarness {
  Q_OBJECT
  QString db() const { return dir_.path() + "/a.db"; }

  // A pane on the test database, its runs merged and its stored list read.
  void open(RoutingProfilePane& pane) {
    pane.resize(1400, 900);
    pane.show();
    QSignalSpy read(&pane, &RoutingProfilePane::storedLoaded);
    pane.setDatabase(db());
    pane.setDataDirectory(test::dataDir());
    RunSummary run;
    run.id = 1;
    run.name = "tiny";
    run.architecture = "sparse_moe";
    pane.mergeRuns({run}, true);
    QVERIFY(read.wait(20000));
  }
  // Clicks `button` and waits for the job it starts; returns its (ok, message).
  static QPair<bool, QString> runJob(RoutingProfilePane& pane, QPushButton* button) {
    QSignalSpy done(&pane, &RoutingProfilePane::jobFinished);
    QSignalSpy read(&pane, &RoutingProfilePane::storedLoaded);
    button->click();
    if (!done.wait(120000)) return {false, "timed out"};
    const bool ok = done.last().at(0).toBool();
    if (ok) read.wait(20000);  // the stored list follows
    return {ok, done.last().at(1).toString()};
  }
  static int64_t sum(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return int64_t(s + 0.5);
  }

 private slots:
  void initTestCase() {
    QCoreApplication::setOrganizationName("MoE Lab tests");
    auto t = trainTinySparseRun("a.db");
    QVERIFY2(t.code == 0, qPrintable(t.err));
  }

  void profilesThroughTheWidgetsAsTheCliDoes() {
    RoutingProfilePane pane;
    open(pane);
    QCOMPARE(pane.storedProfiles(), 0);
    QVERIFY(pane.profileButton()->isEnabled());
    pane.samplesSpin()->setValue(-1);  // the run's data.num_eval_samples, as the CLI's default
    pane.shardsSpin()->setValue(2);
    pane.perplexityCheck()->setChecked(true);
    const auto [ok, message] = runJob(pane, pane.profileButton());
    QVERIFY2(ok, qPrintable(message));
    QVERIFY2(pane.statusLabel()->text().contains("stored as profile #1"),
             qPrintable(pane.statusLabel()->text()));

    // Drawn: 2 layers × 4 experts, a bar chart per layer holding every assignment (k = 2 per token).
    RoutingProfileView* v = pane.leftView();
    QVERIFY(!v->empty());
    QCOMPARE(v->heatmap()->rows(), 2);
    QCOMPARE(v->heatmap()->cols(), 4);
    QCOMPARE(int(v->layerBars().size()), 2);
    QCOMPARE(sum(v->layerBars()[0]->values()), 2 * v->profile().tokens);
    QCOMPARE(v->metricsTable()->rowCount(), 2);
    QVERIFY(v->summaryLabel()->text().contains("perplexity"));
    QVERIFY(!v->summaryLabel()->text().contains("not measured"));

    // Stored in the database and listed; the CLI profiles the same text to the same counts.
    QCOMPARE(pane.storedTable()->rowCount(), 1);
    ExperimentStore store(db().toStdString(), true);
    const auto stored = store.analyses(1, "routing_profile");
    QCOMPARE(int(stored.size()), 1);
    auto c = cli({"profile", "--run", "1", "--shards", "2", "--no-store", "--json", "--db", "a.db"});
    QVERIFY2(c.code == 0, qPrintable(c.err));
    const auto fromCli = nlohmann::json::parse(c.out.toStdString());
    for (int l = 0; l < 2; ++l) {
      QCOMPARE(stored[0].content["layers"][l]["counts"], fromCli["layers"][l]["counts"]);
      QCOMPARE(stored[0].content["layers"][l]["by_shard"], fromCli["layers"][l]["by_shard"]);
    }

    // Exports of what is shown.
    QVERIFY(pane.exportCsv(dir_.path() + "/p.csv"));
    QVERIFY(fileBytes("p.csv").startsWith("layer,expert,assignments,fraction,shard_0,shard_1\n"));
    QVERIFY(pane.exportJson(dir_.path() + "/p.json"));
    QCOMPARE(nlohmann::json::parse(fileBytes("p.json").toStdString())["layers"][1]["counts"],
             stored[0].content["layers"][1]["counts"]);
    QVERIFY(pane.exportPng(dir_.path() + "/p.png"));
    QVERIFY(QImage(dir_.path() + "/p.png").width() > 200);
  }

  void twoProfilesSideBySideShareTheColourRange() {
    RoutingProfilePane pane;
    open(pane);
    const int before = pane.storedProfiles();
    QVERIFY(before >= 1);
    const qint64 topK = pane.storedTable()->item(before - 1, 0)->data(Qt::UserRole).toLongLong();
    pane.strategyCombo()->setCurrentText("round_robin");
    const auto [ok, message] = runJob(pane, pane.profileButton());
    QVERIFY2(ok, qPrintable(message));
    QCOMPARE(pane.storedProfiles(), before + 1);
    QVERIFY(!pane.rightView()->isVisible());
    const int at = pane.compareCombo()->findData(topK);
    QVERIFY(at > 0);
    pane.compareCombo()->setCurrentIndex(at);
    QVERIFY(pane.rightView()->isVisible());
    QCOMPARE(pane.rightView()->profile().strategy, std::string("none"));
    QCOMPARE(pane.leftView()->profile().strategy, std::string("round_robin"));
    // Round robin spreads the load evenly: its Gini is below the trained routing's.
    QVERIFY(pane.leftView()->profile().mean().gini < pane.rightView()->profile().mean().gini);
    QCOMPARE(pane.leftView()->heatmap()->scale().hi, pane.rightView()->heatmap()->scale().hi);
    QVERIFY(pane.leftView()->summaryLabel()->text().contains("perplexity not measured"));
    pane.compareCombo()->setCurrentIndex(0);
    QVERIFY(!pane.rightView()->isVisible());
  }

  void simulateThisProfileFeedsTheNetworkSimulator() {
    RoutingProfilePane pane;
    open(pane);
    SimulatorPane sim;
    connect(&pane, &RoutingProfilePane::simulateRequested, &sim,
            [&](const sim::MeasuredTraffic& traffic, const QString& what) {
              sim.simulateMeasuredTraffic(traffic, what);
            });
    QSignalSpy simulated(&sim, &SimulatorPane::simulated);
    QVERIFY(pane.selectProfile(1));  // the first test's profile, split into 2 shards
    QVERIFY(pane.simulateButton()->isEnabled());
    pane.simulateButton()->click();
    QVERIFY(simulated.wait(30000));
    QVERIFY(simulated.last().at(0).toBool());
    const auto cfg = sim.form()->config();
    QCOMPARE(cfg["traffic"]["kind"].get<std::string>(), std::string("counts"));
    QCOMPARE(cfg["traffic"]["counts"].size(), size_t(2));
    const auto& shown = pane.leftView()->profile().layers[0].counts;
    for (size_t e = 0; e < shown.size(); ++e)
      QCOMPARE(cfg["traffic"]["counts"][0][e].get<double>(), double(shown[e]));
    QCOMPARE(cfg["model"]["top_k"].get<int>(), 2);
    // Per shard too: each source shard's counts, and the status line says how GPUs map to shards.
    const auto& byShard = pane.leftView()->profile().layers[1].byShard;
    QCOMPARE(byShard.size(), size_t(2));
    QCOMPARE(cfg["traffic"]["counts_by_source"].size(), size_t(2));
    for (size_t g = 0; g < 2; ++g)
      for (size_t e = 0; e < byShard[g].size(); ++e)
        QCOMPARE(cfg["traffic"]["counts_by_source"][1][g][e].get<double>(), double(byShard[g][e]));
    QVERIFY2(sim.statusLabel()->text().contains("per source shard (2 shards)"),
             qPrintable(sim.statusLabel()->text()));
    QCOMPARE(sim.result()["traffic_sources"].get<int>(), 2);
  }

  void reassignmentTableComparesStrategiesWithTopK() {
    RoutingProfilePane pane;
    open(pane);
    pane.reassignmentView()->setStrategies({"balanced", "round_robin"});
    pane.reassignmentView()->clusterCombo()->setCurrentText("dgx-h100");
    const auto [ok, message] = runJob(pane, pane.reassignmentView()->runButton());
    QVERIFY2(ok, qPrintable(message));
    QCOMPARE(pane.views()->currentIndex(), 1);
    auto* t = pane.reassignmentView()->table();
    QCOMPARE(t->rowCount(), 3);
    QCOMPARE(t->item(0, 0)->text(), QString("none"));
    QCOMPARE(t->item(0, 2)->text(), QString("+0.00 %"));  // the baseline's perplexity change
    QCOMPARE(t->item(2, 0)->text(), QString("round_robin"));
    QVERIFY(pane.reassignmentView()->titleLabel()->text().contains("dgx-h100"));
    QCOMPARE(pane.storedReassignments()->count(), 1);
    QVERIFY(pane.exportCsv(dir_.path() + "/r.csv"));
    QVERIFY(fileBytes("r.csv").startsWith("strategy,perplexity,"));
  }

  void problemsAreSaidNotHidden() {
    RoutingProfilePane pane;
    open(pane);
    pane.strategyCombo()->setCurrentText("none");
    // A missing text file: the engine's message, nothing stored.
    const int before = pane.storedProfiles();
    QComboBox* source = pane.sourceCombo();
    source->setCurrentText("file");
    QPushButton* profile = pane.profileButton();
    // No file chosen yet: refused before any work.
    profile->click();
    QVERIFY(pane.statusLabel()->text().contains("Choose the text file"));
    pane.fileEdit()->setText(dir_.path() + "/missing.txt");
    const auto [ok, message] = runJob(pane, profile);
    QVERIFY(!ok);
    QVERIFY2(message.contains("missing.txt"), qPrintable(message));
    QVERIFY(pane.statusLabel()->text().contains("missing.txt"));
    QCOMPARE(pane.storedProfiles(), before);
    // No run to profile listed: the button stays off and says why when asked.
    RoutingProfilePane empty;
    empty.setDatabase(dir_.path() + "/a.db");
    QVERIFY(!empty.profileButton()->isEnabled());
    QVERIFY(!empty.startProfile());
    QVERIFY(empty.statusLabel()->text().contains("No trained sparse_moe or gnn_moe run"));
  }
};

MOELAB_TEST_SUITE(RoutingProfilePaneTest)
#include "RoutingProfilePaneTest.moc"
