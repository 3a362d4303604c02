#include <QtTest/QtTest>
#include <cmath>

#include "TestSuite.h"
#include "metrics/LoadImbalance.h"
#include "model/RoutingStats.h"

using namespace moelab;

class LoadImbalanceTest : public QObject {
  Q_OBJECT
 private slots:
  void uniformLoadIsPerfectlyBalanced() {
    const auto m = LoadImbalance::of(std::vector<int64_t>{1, 1, 1, 1});
    QCOMPARE(m.gini, 0.0);
    QCOMPARE(m.cv, 0.0);
    QCOMPARE(m.variance, 0.0);
    QCOMPARE(m.entropy, 1.0);
    QCOMPARE(m.maxMean, 1.0);
    QCOMPARE(m.maxMin, 1.0);
    QCOMPARE(m.dead, int64_t(0));
  }
  void oneExpertTakingEverything() {
    const auto m = LoadImbalance::of(std::vector<int64_t>{0, 0, 0, 4});
    QCOMPARE(m.gini, 0.75);  // sum |xi - xj| = 24 over 2 n^2 mean = 32
    QCOMPARE(m.variance, 3.0);
    QVERIFY(std::abs(m.cv - std::sqrt(3.0)) < 1e-12);
    QCOMPARE(m.entropy, 0.0);
    QCOMPARE(m.maxMean, 4.0);
    QVERIFY(std::isinf(m.maxMin));
    QCOMPARE(m.dead, int64_t(3));
    QVERIFY(m.toJson()["max_min"].is_null());  // JSON has no infinity
  }
  void handComputedSkew() {
    const auto m = LoadImbalance::of(std::vector<double>{1, 2, 3, 4});
    QVERIFY(std::abs(m.gini - 0.25) < 1e-12);  // 20 / (2 * 16 * 2.5)
    QVERIFY(std::abs(m.variance - 1.25) < 1e-12);
    QVERIFY(std::abs(m.cv - std::sqrt(1.25) / 2.5) < 1e-12);
    // -(.1 ln .1 + .2 ln .2 + .3 ln .3 + .4 ln .4) / ln 4
    QVERIFY(std::abs(m.entropy - 0.923213) < 1e-5);
    QCOMPARE(m.maxMean, 1.6);
    QCOMPARE(m.maxMin, 4.0);
  }
  void routingStatsReadTheSameDefinitions() {
    RoutingStats s;
    s.tokensPerExpert = {0, 0, 0, 4};
    QCOMPARE(s.gini(), 0.75);
    QCOMPARE(s.maxViolation(), 3.0);
    QCOMPARE(s.normalisedEntropy(), 0.0);
    QCOMPARE(s.deadExperts(), int64_t(3));
  }
  void nothingRoutedIsNotImbalance() {
    const auto m = LoadImbalance::of(std::vector<int64_t>{0, 0, 0});
    QCOMPARE(m.gini, 0.0);
    QCOMPARE(m.cv, 0.0);
    QCOMPARE(m.dead, int64_t(3));
  }
};

MOELAB_TEST_SUITE(LoadImbalanceTest)
#include "LoadImbalanceTest.moc"
