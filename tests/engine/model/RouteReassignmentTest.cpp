#include <QtTest/QtTest>
#include <set>

#include "TestSuite.h"
#include "metrics/LoadImbalance.h"
#include "model/ImbalanceLosses.h"
#include "model/RouteReassignment.h"
#include "model/RouterTopK.h"
#include "util/Errors.h"

using namespace moelab;

namespace {
// Router probabilities that favour low expert ids strongly: top-k piles onto experts 0..k-1.
torch::Tensor skewedScores(int64_t N, int64_t E, uint64_t seed) {
  torch::manual_seed(seed);
  auto bias = -torch::arange(E, torch::kFloat) * 1.5;
  return torch::softmax(torch::randn({N, E}) + bias, -1);
}
std::vector<int64_t> loads(const torch::Tensor& chosen, int64_t E) {
  auto c = torch::bincount(chosen.reshape({-1}), {}, E);
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + E};
}
bool rowsDistinct(const torch::Tensor& chosen) {
  auto a = chosen.accessor<int64_t, 2>();
  for (int64_t n = 0; n < chosen.size(0); ++n) {
    std::set<int64_t> s;
    for (int64_t j = 0; j < chosen.size(1); ++j) s.insert(a[n][j]);
    if (int64_t(s.size()) != chosen.size(1)) return false;
  }
  return true;
}
}  // namespace

class RouteReassignmentTest : public QObject {
  Q_OBJECT
 private slots:
  void parsesStrategiesAndRefusesBadOnes() {
    QCOMPARE(ReassignSpec::parse("topk_filtered:4").topM, int64_t(4));
    QCOMPARE(ReassignSpec::parse("temperature:1.5").temperature, 1.5);
    QCOMPARE(ReassignSpec::parse("random:7").seed, uint64_t(7));
    for (const char* s : {"balanced", "round_robin", "random:7", "topk_filtered:3", "temperature:0.5"})
      QCOMPARE(ReassignSpec::parse(ReassignSpec::parse(s).label()).label(), std::string(s));
    for (const char* bad : {"bogus", "balanced:3", "temperature:-1", "topk_filtered:x", "topk_filtered:0"})
      QVERIFY_THROWS_EXCEPTION(UserError, ReassignSpec::parse(bad));
    QVERIFY_THROWS_EXCEPTION(UserError, ReassignSpec::parse("topk_filtered:1").validate(8, 2));  // m < k
    QVERIFY_THROWS_EXCEPTION(UserError, ReassignSpec::parse("topk_filtered:9").validate(8, 2));  // m > E
  }
  void everyStrategyMovesLoadTowardBalance() {
    const int64_t N = 512, E = 8, k = 2;
    const auto scores = skewedScores(N, E, 1);
    const auto logits = torch::log(scores);
    const double original = LoadImbalance::of(loads(std::get<1>(scores.topk(k, -1)), E)).gini;
    QVERIFY(original > 0.3);
    for (const char* s : {"balanced", "round_robin", "random", "topk_filtered:8", "temperature:20"}) {
      RouteReassigner r(ReassignSpec::parse(s));
      const auto chosen = r.choose(scores, logits, k);
      QCOMPARE(chosen.sizes(), (c10::IntArrayRef{N, k}));
      QVERIFY2(rowsDistinct(chosen), s);
      const double g = LoadImbalance::of(loads(chosen, E)).gini;
      QVERIFY2(g < original / 2, qPrintable(QString("%1: gini %2 vs top-k %3").arg(s).arg(g).arg(original)));
    }
    // topk_filtered with m = k is top-k; a small temperature samples what top-k picks.
    RouteReassigner same(ReassignSpec::parse("topk_filtered:2"));
    QCOMPARE(loads(same.choose(scores, logits, k), E), loads(std::get<1>(scores.topk(k, -1)), E));
    RouteReassigner cold(ReassignSpec::parse("temperature:0.0001"));
    QVERIFY(torch::equal(std::get<1>(scores.topk(k, -1)), cold.choose(scores, logits, k)));
  }
  void balancedNeverExceedsTheFairShare() {
    // Many shapes, including the ones where a late token could find fewer than k experts with room.
    for (int64_t E : {2, 3, 5, 8})
      for (int64_t k = 1; k <= std::min<int64_t>(E, 4); ++k)
        for (int64_t N : {1, 2, 3, 7, 13, 64}) {
          const auto scores = skewedScores(N, E, uint64_t(N * 100 + E * 10 + k));
          RouteReassigner r(ReassignSpec::parse("balanced"));
          const auto chosen = r.choose(scores, torch::log(scores), k);
          QVERIFY(rowsDistinct(chosen));
          const int64_t fair = (k * N + E - 1) / E;
          for (int64_t c : loads(chosen, E))
            QVERIFY2(c <= fair,
                     qPrintable(QString("E %1 k %2 N %3: %4 > %5").arg(E).arg(k).arg(N).arg(c).arg(fair)));
        }
    // The most confident token keeps its best expert.
    auto scores = skewedScores(16, 4, 3);
    RouteReassigner r(ReassignSpec::parse("balanced"));
    const auto chosen = r.choose(scores, torch::log(scores), 1);
    const int64_t top = std::get<1>(std::get<0>(scores.max(-1)).max(0)).item<int64_t>();
    QCOMPARE(chosen[top][0].item<int64_t>(), scores[top].argmax().item<int64_t>());
  }
  void roundRobinIsExactAndContinuesAcrossBatches() {
    RouteReassigner r(ReassignSpec::parse("round_robin"));
    const auto scores = skewedScores(6, 4, 2);
    auto a = loads(r.choose(scores, torch::log(scores), 2), 4);  // 12 assignments over 4 experts
    QCOMPARE(a, (std::vector<int64_t>{3, 3, 3, 3}));
    const auto one = skewedScores(1, 4, 2);
    QCOMPARE(loads(r.choose(one, torch::log(one), 1), 4),
             (std::vector<int64_t>{1, 0, 0, 0}));  // cursor at 0 again
    QCOMPARE(loads(r.choose(one, torch::log(one), 1), 4), (std::vector<int64_t>{0, 1, 0, 0}));
  }
  void routerAppliesStrategiesOnlyInEvaluation() {
    ModelConfig cfg{"sparse_moe", 8, 1, 2, 4, 0, 16, 50, 0.0};
    cfg.topK = 1;
    RouterTopK router(cfg);
    torch::NoGradGuard g;
    router->weight.zero_();
    router->weight[0][0] = 10;  // every token with x0 > 0 prefers expert 0
    auto x = torch::zeros({32, 8});
    x.select(1, 0).fill_(1);
    router->setReassignment(ReassignSpec::parse("round_robin"));
    router->train();
    QCOMPARE(router->route(x, 0).stats.tokensPerExpert, (std::vector<int64_t>{32, 0, 0, 0}));
    router->eval();
    QCOMPARE(router->route(x, 0).stats.tokensPerExpert, (std::vector<int64_t>{8, 8, 8, 8}));
    router->setReassignment({});
    QCOMPARE(router->route(x, 0).stats.tokensPerExpert, (std::vector<int64_t>{32, 0, 0, 0}));
  }
  void imbalanceLossesAreZeroWithFiniteGradientsAtBalance() {
    for (auto loss : {softGini, softVariance, softCvSquared, softEntropyGap}) {
      auto logits = torch::zeros({4}, torch::requires_grad());
      auto value = loss(torch::softmax(logits, 0));
      QVERIFY(std::abs(value.item<double>()) < 1e-6);
      value.backward();
      QVERIFY(torch::isfinite(logits.grad()).all().item<bool>());
    }
    // Why CV^2 is not computed through a standard deviation: sqrt's derivative at 0 is infinite.
    auto logits = torch::zeros({4}, torch::requires_grad());
    auto p = torch::softmax(logits, 0);
    (p.var(0, false).sqrt() / p.mean()).pow(2).backward();
    QVERIFY(!torch::isfinite(logits.grad()).all().item<bool>());
  }
  void imbalanceLossesGrowWithSkewAndTheirGradientBalances() {
    const auto skewed = torch::tensor({0.7, 0.1, 0.1, 0.1});
    QVERIFY(std::abs(softGini(skewed).item<double>() - 0.45) < 1e-6);  // sum |Pi-Pj| = 3.6 over 2E = 8
    QVERIFY(std::abs(softVariance(skewed).item<double>() - 0.0675) < 1e-6);
    QVERIFY(std::abs(softCvSquared(skewed).item<double>() - 1.08) < 1e-5);
    QVERIFY(softEntropyGap(skewed).item<double>() > 0.1);
    for (auto loss : {softGini, softVariance, softCvSquared, softEntropyGap}) {
      auto logits = torch::tensor({2.0, 0.0, 0.0, 0.0}, torch::requires_grad());
      loss(torch::softmax(logits, 0)).backward();
      QVERIFY(logits.grad()[0].item<double>() > 0);  // descending lowers the dominant expert
    }
    ModelConfig cfg{"sparse_moe", 8, 1, 2, 4, 0, 16, 50, 0.0};
    cfg.giniLossCoef = 0.5;
    RouterTopK router(cfg);
    const auto x = torch::randn({16, 8});
    auto plan = router->route(x, 0);
    torch::NoGradGuard g;
    const auto load = torch::softmax(torch::matmul(x, router->weight.t()), -1).mean(0);
    QVERIFY(std::abs(plan.imbalanceLoss.item<double>() - 0.5 * softGini(load).item<double>()) < 1e-6);
  }
};

MOELAB_TEST_SUITE(RouteReassignmentTest)
#include "RouteReassignmentTest.moc"
