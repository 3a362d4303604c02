#include <QtTest/QtTest>

#include "TestSuite.h"
#include "model/LanguageModel.h"

using namespace moelab;

class LanguageModelTest : public QObject {
  Q_OBJECT
  static ModelConfig seed(int64_t d) { return {"gnn_moe", d, 4, 8, 4, 2, 128, 50257, 0.1}; }
 private slots:
  void parameterCountsEqualTheSeeds() {
    QCOMPARE(LanguageModel(seed(256))->parameterBreakdown().total, int64_t(39773401));
    QCOMPARE(LanguageModel(seed(384))->parameterBreakdown().total, int64_t(70055129));
  }
  void breakdownAddsUp() {
    auto b = LanguageModel(seed(256))->parameterBreakdown();
    QCOMPARE(b.experts + b.gnnCoupling + b.other, b.total);
    // 4 layers x 4 experts x (2 LN + attention + FFN) = 16 x 789,760.
    QCOMPARE(b.experts, int64_t(16 * 789760));
  }
  void stackedExpertsMatchSeparateBlocks() {
    // Expert e of a stack must compute exactly what a one-expert stack with e's weights computes.
    torch::manual_seed(1);
    ModelConfig c{"gnn_moe", 32, 1, 4, 3, 1, 16, 100, 0.0};
    ExpertBlockStack stack(3, c), single(1, c);
    auto x = torch::randn({2, 6, 32});
    auto all = stack->forward(x);
    torch::NoGradGuard g;
    auto params = stack->named_parameters();
    for (auto& p : single->named_parameters()) p.value().copy_(params[p.key()][1].unsqueeze(0));
    QCOMPARE(single->named_parameters().size(), size_t(12));
    QVERIFY(torch::allclose(single->forward(x)[0], all[1], 1e-5, 1e-5));
  }
  void attentionIsCausal() {
    ModelConfig c{"gnn_moe", 32, 2, 4, 3, 1, 16, 100, 0.0};
    LanguageModel m(c);
    m->eval();
    auto a = torch::randint(100, {1, 10});
    auto b = a.clone();
    b[0][7] = (b[0][7].item<int64_t>() + 1) % 100;
    auto la = m->forward(a), lb = m->forward(b);
    QVERIFY(torch::allclose(la.slice(1, 0, 7), lb.slice(1, 0, 7), 1e-5, 1e-5));
    QVERIFY(!torch::allclose(la.slice(1, 7, 8), lb.slice(1, 7, 8)));
  }
  void denseBaselineHasOneBlockPerLayer() {
    ModelConfig c{"dense", 64, 2, 4, 8, 2, 32, 500, 0.1};
    auto b = LanguageModel(c)->parameterBreakdown();
    QCOMPARE(b.experts, int64_t(0));
    QCOMPARE(b.gnnCoupling, int64_t(0));
    const int64_t block = 4 * 64 + 3 * 64 * 64 + 3 * 64 + 64 * 64 + 64 + 2 * 4 * 64 * 64 + 4 * 64 + 64;
    QCOMPARE(b.total, 2 * block + 500 * 64 + 32 * 64 + 2 * 64 + 64 * 500 + 500);
  }
};
MOELAB_TEST_SUITE(LanguageModelTest)
#include "LanguageModelTest.moc"
