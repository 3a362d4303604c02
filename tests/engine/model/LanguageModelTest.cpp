#include <QtTest/QtTest>

#include "TestSuite.h"
#include "model/FastDropout.h"
#include "model/LanguageModel.h"
#include "model/StackedNorm.h"

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
  void expertBlockDropsOutWhereTheSeedDoes() {
    // Training mode, dropout 0.5. gnn_moe (seed): h = x + MHA(LN1 x) with dropout only on the
    // attention probabilities, y = h + Dropout(W2 Dropout(GELU(W1 LN2 h))). The dense baseline
    // also drops out the attention output. Same seed, same masks in the same order.
    for (std::string arch : {"gnn_moe", "dense"}) {
      torch::manual_seed(3);
      ModelConfig c{arch, 32, 1, 4, 2, 1, 16, 100, 0.5};
      const int64_t E = arch == "gnn_moe" ? 2 : 1;
      ExpertBlockStack stack(E, c);
      stack->train();
      auto x = torch::randn({2, 6, 32});
      torch::manual_seed(11);
      auto got = stack->forward(x);
      torch::manual_seed(11);
      auto flat = x.reshape({1, 12, 32});
      auto attended =
          stack->attention->forward(stackedNorm(flat, stack->ln1Weight, stack->ln1Bias, false), 2, 6);
      auto h = flat + (arch == "dense" ? fastDropout(attended, 0.5, true) : attended);
      auto f = torch::baddbmm(stack->fc1Bias.unsqueeze(1),
                              stackedNorm(h, stack->ln2Weight, stack->ln2Bias, false), stack->fc1Weight);
      f = fastDropout(torch::gelu(f), 0.5, true);
      auto expected =
          h + fastDropout(torch::baddbmm(stack->fc2Bias.unsqueeze(1), f, stack->fc2Weight), 0.5, true);
      QVERIFY2(torch::allclose(got, expected, 1e-5, 1e-5), arch.c_str());
    }
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
