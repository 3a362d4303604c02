#include <QComboBox>
#include <QFile>
#include <QSlider>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QToolButton>
#include <QtTest/QtTest>

#include "TestSuite.h"
#include "charts/BarsWidget.h"
#include "charts/ColourScale.h"
#include "charts/HeatmapWidget.h"
#include "charts/MetricChart.h"
#include "experts/CouplingView.h"
#include "experts/ExpertViewsPane.h"
#include "experts/RoutingView.h"
#include "experts/UsageView.h"
#include "store/ExperimentStore.h"

using namespace moelab;
using namespace moelab::ui;

namespace {
// What a gnn_moe run stores at an evaluation: 2 layers x 1 GNN layer of 3 experts.
void putCoupling(ExperimentStore& s, int64_t run, int64_t step, double base) {
  nlohmann::json adjacency = nlohmann::json::array(), coupling = nlohmann::json::array();
  for (int l = 0; l < 2; ++l) {
    Matrix a(3, std::vector<double>(3)), eff(3, std::vector<double>(3, 0.0)), spread = eff;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        a[i][j] = base + 0.1 * i + 0.01 * j + l;
        if (i != j) eff[i][j] = a[i][j] * 0.5, spread[i][j] = 0.05 * (i + j);
      }
    adjacency.push_back({a});
    coupling.push_back({{"effective", {eff}}, {"spread", {spread}}, {"share", {0.2, 0.3, 0.5}}});
  }
  s.putArtifact(run, "adjacency", step, {{"layers", adjacency}});
  s.putArtifact(run, "coupling", step, {{"layers", coupling}, {"tokens", 512}});
}
}  // namespace

// The expert views, driven through their widgets over a database written as training writes it.
class ExpertViewsPaneTest : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString db_;
  int64_t gnn_ = 0, sparse_ = 0;

  static void load(ExpertViewsPane& pane, qint64 run) {
    QSignalSpy updated(&pane, &ExpertViewsPane::updated);
    pane.showRun(run);
    QVERIFY(updated.wait(10000));
  }

 private slots:
  void initTestCase() {
    db_ = dir_.path() + "/experts.db";
    ExperimentStore s(db_.toStdString());
    gnn_ = s.createRun("e", "coupled", {{"model", {{"architecture", "gnn_moe"}, {"num_experts", 3}}}});
    putCoupling(s, gnn_, 10, 0.1);
    putCoupling(s, gnn_, 20, 0.2);
    sparse_ = s.createRun("e", "routed",
                          {{"model", {{"architecture", "sparse_moe"}, {"num_experts", 4}, {"top_k", 2}}}});
    for (int64_t step : {5, 10}) {
      s.putArtifact(sparse_, "expert_counts", step,
                    {{"layers", {{100 * step, 50, 30, 20}, {60, 60, 60, 60 + step}}}});
      std::vector<MetricPoint> rows;
      for (int l = 0; l < 2; ++l)
        for (const char* m :
             {"cv", "gini", "max_vio", "dropped_fraction", "router_entropy", "aux_loss", "z_loss"})
          rows.push_back({"moe/layer" + std::to_string(l) + "/" + m, step, 0.1 * l + 0.01 * step, 1.0});
      s.logMetrics(sparse_, rows);
    }
  }

  void couplingHeatmapsShowTheStoredMatricesAndReplay() {
    ExpertViewsPane pane;
    pane.resize(1100, 700);
    pane.show();
    pane.setDatabase(db_);
    load(pane, gnn_);
    QCOMPARE(pane.tabs()->currentIndex(), 0);
    QVERIFY(!pane.tabs()->isTabEnabled(2));  // no routing charts for gnn_moe
    CouplingView* v = pane.coupling();
    QCOMPARE(v->snapshotCount(), 2);
    QCOMPARE(v->stepIndex(), 1);  // follows the newest evaluation
    // Effective coupling (the default), layer 1: A_ij * 0.5 off the diagonal at step 20.
    HeatmapWidget* m = v->heatmap(1, 0);
    QVERIFY(m);
    QCOMPARE(m->matrix()[2][0], (0.2 + 0.2 + 0.0 + 1.0) * 0.5);
    QCOMPARE(m->cellColour(2, 0), m->scale().colour(m->matrix()[2][0]));
    QCOMPARE(m->hoverTextAt(m->cellRect(2, 0).center()),
             QString("layer 1, GNN 0: expert 0 → expert 2: 0.700"));
    // One colour scale for the grid, shown on the colour bar.
    QCOMPARE(v->colourBar()->scale().hi, m->scale().hi);
    v->setMode(CouplingView::Adjacency);
    QCOMPARE(v->heatmap(0, 0)->matrix()[1][1], 0.2 + 0.1 + 0.01);
    // Change since the previous evaluation: +0.1 everywhere, on a diverging scale.
    v->setChangeMode(true);
    QVERIFY(std::abs(v->heatmap(0, 0)->matrix()[0][2] - 0.1) < 1e-12);
    QVERIFY(v->heatmap(0, 0)->scale().diverging);
    v->setChangeMode(false);
    // Replay: the slider goes back, play advances it.
    v->setStepIndex(0);
    QCOMPARE(v->heatmap(0, 0)->matrix()[0][0], 0.1);
    v->playButton()->click();
    QTRY_COMPARE_WITH_TIMEOUT(v->stepIndex(), 1, 3000);
    v->playButton()->click();
    // Usage for gnn_moe: each expert's share of the coupled output with the uniform level.
    QCOMPARE(pane.usage()->layerBars(0)->values(), (std::vector<double>{0.2, 0.3, 0.5}));
    QVERIFY(std::abs(pane.usage()->layerBars(0)->reference() - 1.0 / 3) < 1e-12);
  }

  void usageBarsEqualTheStoredCounts() {
    ExpertViewsPane pane;
    pane.resize(1100, 700);
    pane.show();
    pane.setDatabase(db_);
    load(pane, sparse_);
    QVERIFY(!pane.tabs()->isTabEnabled(0));
    QCOMPARE(pane.tabs()->currentIndex(), 1);
    UsageView* u = pane.usage();
    QCOMPARE(u->snapshotCount(), 2);
    QCOMPARE(u->shownStep(), int64_t(10));
    QCOMPARE(u->layerBars(0)->values(), (std::vector<double>{1000, 50, 30, 20}));
    QCOMPARE(u->layerBars(1)->values(), (std::vector<double>{60, 60, 60, 70}));
    QCOMPARE(u->layerBars(0)->reference(), 1100.0 / 4);
    const auto s = summariseLoad({1000, 50, 30, 20});
    QVERIFY(u->layerBars(0)->caption().contains(QString("max/mean %1").arg(s.maxOverMean, 0, 'f', 2)));
    QVERIFY(u->layerBars(0)->caption().contains(QString("Gini %1").arg(s.gini, 0, 'f', 3)));
    // Layer x expert fractions at the step, and one layer over time.
    QCOMPARE(u->layerHeatmap()->rows(), 2);
    // Load against the uniform share: expert 0 of layer 0 carries 1000 of 1100 tokens over 4 experts.
    QVERIFY(std::abs(u->layerHeatmap()->matrix()[0][0] - (1000.0 / 1100 * 4 - 1)) < 1e-12);
    QVERIFY(u->layerHeatmap()->scale().diverging);
    QCOMPARE(u->layerColourBar()->scale().hi, u->layerHeatmap()->scale().hi);
    QCOMPARE(u->timeHeatmap()->cols(), 2);
    u->setStepIndex(0);
    QCOMPARE(u->layerBars(0)->values()[0], 500.0);
    // Routing charts: one series per layer for each statistic.
    RoutingView* r = pane.routing();
    QCOMPARE(r->chart("gini")->seriesNames(), (QStringList{"layer 0", "layer 1"}));
    QCOMPARE(r->chart("z_loss")->pointCount("layer 1"), 2);
  }

  void newRowsArriveWhileTheRunTrains() {
    ExpertViewsPane pane;
    pane.show();  // a hidden pane defers its reads until shown
    pane.setDatabase(db_);
    load(pane, sparse_);
    {
      ExperimentStore s(db_.toStdString());  // another writer, as another process would be
      s.putArtifact(sparse_, "expert_counts", 15, {{"layers", {{1, 2, 3, 4}, {4, 3, 2, 1}}}});
      s.logMetrics(sparse_, {{"moe/layer0/cv", 15, 0.5, 2.0}});
    }
    QSignalSpy updated(&pane, &ExpertViewsPane::updated);
    pane.refresh();
    QVERIFY(updated.wait(10000));
    QCOMPARE(pane.usage()->snapshotCount(), 3);
    QCOMPARE(pane.usage()->layerBars(1)->values(), (std::vector<double>{4, 3, 2, 1}));
    QCOMPARE(pane.routing()->chart("cv")->pointCount("layer 0"), 3);
  }

  void aResumedRunReplacesWhatFollowedItsCheckpoint() {
    ExpertViewsPane pane;
    pane.show();  // a hidden pane defers its reads until shown
    pane.setDatabase(db_);
    load(pane, sparse_);
    const int held = pane.usage()->snapshotCount();
    QVERIFY(held >= 2);
    {
      // A resume from step 5 deletes what followed and writes step 10 anew (other values).
      ExperimentStore s(db_.toStdString());
      s.deleteMetricsAfter(sparse_, 5);
      s.putArtifact(sparse_, "expert_counts", 10, {{"layers", {{7, 7, 7, 7}, {1, 1, 1, 9}}}});
      s.logMetrics(sparse_, {{"moe/layer0/cv", 10, 0.9, 3.0}});
    }
    QSignalSpy updated(&pane, &ExpertViewsPane::updated);
    pane.refresh();
    QVERIFY(updated.wait(10000));
    QCOMPARE(pane.usage()->snapshotCount(), 2);
    QCOMPARE(pane.usage()->layerBars(1)->values(), (std::vector<double>{1, 1, 1, 9}));
    QCOMPARE(pane.routing()->chart("cv")->points("layer 0").last(), QPointF(10, 0.9));
    QCOMPARE(pane.routing()->chart("cv")->pointCount("layer 0"), 2);
  }

  void csvExportsRoundTrip() {
    ExpertViewsPane pane;
    pane.show();  // a hidden pane defers its reads until shown
    pane.setDatabase(db_);
    load(pane, gnn_);
    const QString csv = dir_.path() + "/coupling.csv";
    pane.tabs()->setCurrentIndex(0);
    QVERIFY(pane.exportCsv(csv));
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QStringList lines = QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(
        lines.first(),
        QString("step,layer,gnn_layer,to_expert,from_expert,sigmoid_a,effective_coupling,coupling_spread"));
    QCOMPARE(lines.size(), 1 + 2 * 2 * 9);  // 2 evaluations x 2 layers x 3 x 3
    // step 20, layer 1, GNN 0, to 2, from 0: sigmoid(A) = 1.4, effective 0.7, spread 0.1
    QStringList row;
    for (const QString& l : lines)
      if (l.startsWith("20,1,0,2,0,")) row = l.split(',');
    QCOMPARE(row.size(), 8);
    QVERIFY(std::abs(row[5].toDouble() - 1.4) < 1e-12);
    QVERIFY(std::abs(row[6].toDouble() - 0.7) < 1e-12);
    QVERIFY(std::abs(row[7].toDouble() - 0.1) < 1e-12);
    const QString png = dir_.path() + "/coupling.png";
    QVERIFY(pane.exportPng(png));
    QVERIFY(QImage(png).width() > 100);
  }
};
MOELAB_TEST_SUITE(ExpertViewsPaneTest)
#include "ExpertViewsPaneTest.moc"
