#include <QtTest/QtTest>

#include "TestSuite.h"
#include "sweep/EarlyStopping.h"

using namespace moelab;

class EarlyStoppingTest : public QObject {
  Q_OBJECT
  EarlyStoppingSpec median(int64_t grace, int64_t minRuns) {
    EarlyStoppingSpec s;
    s.method = EarlyStoppingSpec::Method::Median;
    s.graceSteps = grace;
    s.minRuns = minRuns;
    return s;
  }
  EarlyStoppingSpec asha(int64_t grace, double eta) {
    EarlyStoppingSpec s;
    s.method = EarlyStoppingSpec::Method::Asha;
    s.graceSteps = grace;
    s.reductionFactor = eta;
    return s;
  }
 private slots:
  void medianStopsARunWorseThanTheMedianOfItsPeers() {
    // Three finished peers; their best values up to step 20 are 5.0, 4.0 and 6.0: median 5.0.
    std::vector<MetricCurve> peers = {{{10, 5.5}, {20, 5.0}, {30, 4.5}},
                                      {{10, 4.5}, {20, 4.0}, {30, 3.8}},
                                      {{10, 6.5}, {20, 6.0}, {30, 5.9}}};
    const auto spec = median(10, 3);
    auto d = medianStoppingDecision({{10, 6.0}, {20, 5.5}}, peers, 20, spec, true, "val/loss");
    QVERIFY(d.stop);
    QVERIFY2(QString::fromStdString(d.reason).contains("median 5 of 3 runs"), d.reason.c_str());
    QVERIFY(!medianStoppingDecision({{10, 6.0}, {20, 4.5}}, peers, 20, spec, true, "val/loss").stop);
    // Its best so far counts, not its latest value.
    QVERIFY(!medianStoppingDecision({{10, 4.2}, {20, 5.5}}, peers, 20, spec, true, "val/loss").stop);
    // Before the grace period, or with fewer peers at that step than min_runs: no decision.
    QVERIFY(!medianStoppingDecision({{10, 9.0}}, peers, 10, median(20, 3), true, "val/loss").stop);
    std::vector<MetricCurve> young = {peers[0], peers[1], {{10, 6.5}}};  // the third has not reached 20
    QVERIFY(!medianStoppingDecision({{10, 6.0}, {20, 5.5}}, young, 20, spec, true, "val/loss").stop);
    QVERIFY(medianStoppingDecision({{10, 6.0}, {20, 5.5}}, young, 20, median(10, 2), true, "val/loss").stop);
    // Maximising flips the comparison.
    QVERIFY(!medianStoppingDecision({{10, 6.0}, {20, 5.5}}, peers, 20, spec, false, "acc").stop);
    QVERIFY(medianStoppingDecision({{10, 4.0}, {20, 4.5}}, peers, 20, spec, false, "acc").stop);
  }
  void successiveHalvingKeepsTheBestFractionAtEachRung() {
    QCOMPARE(ashaRungs(asha(10, 2), 80), (std::vector<int64_t>{10, 20, 40, 80}));
    QCOMPARE(ashaRungs(asha(5, 3), 100), (std::vector<int64_t>{5, 15, 45}));
    // Three peers reached rung 10 with 4.0, 5.0, 6.0; with eta 2 the best 2 of 4 go on.
    std::vector<MetricCurve> peers = {{{10, 4.0}, {20, 3.5}}, {{10, 5.0}}, {{10, 6.0}}};
    const auto spec = asha(10, 2);
    auto d = ashaDecision({{5, 7.0}, {10, 5.5}}, peers, 10, spec, true, "val/loss");
    QVERIFY(d.stop);
    QVERIFY2(QString::fromStdString(d.reason).contains("ranks 3 of 4 runs; the best 2 go on"),
             d.reason.c_str());
    QVERIFY(!ashaDecision({{5, 7.0}, {10, 4.5}}, peers, 10, spec, true, "val/loss").stop);
    // Only the run's first evaluation at or past a rung is judged.
    QVERIFY(!ashaDecision({{10, 4.5}, {15, 9.0}}, peers, 15, spec, true, "val/loss").stop);
    // Evaluations sparser than rungs: step 12 is the first past rung 10.
    QVERIFY(ashaDecision({{6, 8.0}, {12, 5.5}}, peers, 12, spec, true, "val/loss").stop);
    // Too few runs at a rung to keep a fraction of them: no decision (eta 2, n = 1).
    QVERIFY(!ashaDecision({{10, 9.0}}, {}, 10, spec, true, "val/loss").stop);
    // At rung 20 only one peer has a value: 2 runs, the best 1 goes on.
    QVERIFY(ashaDecision({{10, 3.0}, {20, 3.9}}, peers, 20, spec, true, "val/loss").stop);
    QVERIFY(!ashaDecision({{10, 3.0}, {20, 3.1}}, peers, 20, spec, true, "val/loss").stop);
    // The spec's method selects the rule; none never stops.
    EarlyStoppingSpec none;
    QVERIFY(!earlyStoppingDecision({{5, 7.0}, {10, 9.5}}, peers, 10, none, true, "val/loss").stop);
    QVERIFY(earlyStoppingDecision({{5, 7.0}, {10, 9.5}}, peers, 10, spec, true, "val/loss").stop);
  }
};

MOELAB_TEST_SUITE(EarlyStoppingTest)
#include "EarlyStoppingTest.moc"
