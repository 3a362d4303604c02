#include <QtTest/QtTest>

#include "TestSuite.h"
#include "model/LanguageModel.h"
#include "model/SwiGlu.h"
#include "train/Trainer.h"

using namespace moelab;

namespace {
ModelConfig sparseConfig(int64_t E, int64_t k, double capacity) {
  ModelConfig c{"sparse_moe", 8, 1, 2, E, 0, 16, 50, 0.0};
  c.topK = k;
  c.capacityFactor = capacity;
  c.evalCapacityFactor = capacity;
  c.expertIntermediateDim = 12;
  c.bias = false;
  return c;
}
// With router weights = identity (D = E): token n prefers expert n mod E, then (n+1) mod E, so
// every expert gets the same number of first and second choices.
torch::Tensor roundRobinTokens(int64_t N, int64_t E, double scale) {
  auto x = torch::zeros({N, E});
  for (int64_t n = 0; n < N; ++n) {
    x[n][n % E] = scale;
    x[n][(n + 1) % E] = scale / 2;
  }
  return x;
}
}  // namespace

class SparseMoeTest : public QObject {
  Q_OBJECT
 private slots:
  void capacityIsNeverExceededAndDropsAreCounted() {
    torch::manual_seed(0);
    for (double cf : {0.5, 1.0, 1.25}) {
      auto cfg = sparseConfig(4, 2, cf);
      RouterTopK router(cfg);
      torch::NoGradGuard g;
      router->weight.normal_(0, 1);  // make routing uneven
      auto plan = router->route(torch::randn({64, 8}), cf);
      const int64_t C = int64_t(std::ceil(2.0 * 64 / 4 * cf));
      QCOMPARE(plan.stats.capacity, C);
      int64_t kept = 0;
      for (size_t e = 0; e < plan.counts.size(); ++e) {
        QVERIFY(plan.counts[e] <= C);
        QCOMPARE(plan.counts[e], std::min(plan.stats.tokensPerExpert[e], C));
        kept += plan.counts[e];
      }
      QCOMPARE(plan.tokenIndex.size(0), kept);
      QCOMPARE(plan.stats.dropped, int64_t(128) - kept);
    }
  }
  void droppedTokensPassThroughTheResidualUnchanged() {
    // Every token prefers expert 0; capacity 2 keeps only the first two tokens (position policy).
    auto cfg = sparseConfig(4, 1, 0.5);
    cfg.embedDim = 4;
    SparseMoeFfn moe(cfg);
    torch::NoGradGuard g;
    moe->router->weight.zero_();
    moe->router->weight[0].fill_(5.0);
    auto x = torch::rand({8, 4}) + 0.5;
    auto y = moe->forward(x);
    QCOMPARE(moe->lastStats.capacity, int64_t(1));  // ceil(1*8/4*0.5) = 1... position keeps token 0
    QCOMPARE(moe->lastStats.dropped, int64_t(7));
    QVERIFY(y[0].abs().sum().item<double>() > 0);
    QVERIFY(y.slice(0, 1, 8).eq(0).all().item<bool>());  // layer output = x + 0 = x for dropped tokens
    QCOMPARE(moe->lastStats.droppedFraction(), 7.0 / 8.0);
  }
  void probabilityPolicyKeepsTheMostConfidentAssignments() {
    auto cfg = sparseConfig(2, 1, 0.5);
    cfg.embedDim = 2;
    cfg.dropPolicy = "probability";
    RouterTopK router(cfg);
    torch::NoGradGuard g;
    router->weight.copy_(torch::tensor({{1.0f, 0.0f}, {0.0f, 0.0f}}));
    // All four tokens prefer expert 0, token 2 most strongly; capacity ceil(4/2*0.5) = 1.
    auto plan = router->route(torch::tensor({{1.0f, 0.f}, {2.0f, 0.f}, {5.0f, 0.f}, {3.0f, 0.f}}), 0.5);
    QCOMPARE(plan.tokenIndex.size(0), int64_t(1));
    QCOMPARE(plan.tokenIndex[0].item<int64_t>(), int64_t(2));
  }
  void paddingNeverReachesTheRouter() {
    // The same two sequences (5 and 8 real tokens) batched at length 8, and at length 16 with an
    // extra all-padding row: routing, capacity, losses and every statistic must be identical.
    torch::manual_seed(5);
    auto cfg = sparseConfig(4, 2, 1.0);  // tight capacity: pads would take slots (position policy)
    cfg.numLayers = 2;
    LanguageModel m(cfg);
    m->train();
    auto tokens = torch::randint(1, 50, {2, 8});
    auto maskA = torch::ones({2, 8}, torch::kBool);
    maskA[0].slice(0, 5, 8).fill_(false);
    auto inA = tokens.masked_fill(maskA.logical_not(), 0);
    auto tgA = torch::randint(50, {2, 8}).masked_fill(maskA.logical_not(), -100);
    auto inB = torch::zeros({3, 16}, torch::kLong), tgB = torch::full({3, 16}, -100, torch::kLong);
    auto maskB = torch::zeros({3, 16}, torch::kBool);
    inB.slice(0, 0, 2).slice(1, 0, 8).copy_(inA);
    tgB.slice(0, 0, 2).slice(1, 0, 8).copy_(tgA);
    maskB.slice(0, 0, 2).slice(1, 0, 8).copy_(maskA);

    auto logitsA = m->forward(inA, maskA);
    auto lossA = languageModelLoss(logitsA, tgA).item<double>();
    auto auxA = m->auxiliaryLoss().item<double>();
    auto statsA = m->routingStats();
    auto logitsB = m->forward(inB, maskB);
    auto lossB = languageModelLoss(logitsB, tgB).item<double>();
    auto auxB = m->auxiliaryLoss().item<double>();
    auto statsB = m->routingStats();

    QVERIFY(std::abs(lossA - lossB) < 1e-5);
    QVERIFY(std::abs(auxA - auxB) < 1e-6);
    QVERIFY(torch::allclose(logitsA[1], logitsB[1].slice(0, 0, 8), 1e-5, 1e-5));
    QVERIFY(torch::allclose(logitsA[0].slice(0, 0, 5), logitsB[0].slice(0, 0, 5), 1e-5, 1e-5));
    QCOMPARE(statsA.size(), size_t(2));
    for (size_t l = 0; l < statsA.size(); ++l) {
      const auto &a = statsA[l], &b = statsB[l];
      QCOMPARE(a.assignments, int64_t(13 * 2));  // real tokens x k only
      QCOMPARE(b.assignments, a.assignments);
      QCOMPARE(b.tokensPerExpert, a.tokensPerExpert);
      QCOMPARE(b.capacity, a.capacity);
      QCOMPARE(b.dropped, a.dropped);
      QCOMPARE(b.deadExperts(), a.deadExperts());
      QVERIFY(std::abs(a.gini() - b.gini()) < 1e-12 && std::abs(a.maxViolation() - b.maxViolation()) < 1e-12);
      QVERIFY(std::abs(a.coefficientOfVariation() - b.coefficientOfVariation()) < 1e-12);
      QVERIFY(std::abs(a.auxLoss - b.auxLoss) < 1e-6 && std::abs(a.zLoss - b.zLoss) < 1e-5);
      QVERIFY(std::abs(a.routerEntropy - b.routerEntropy) < 1e-6);
      QVERIFY(std::abs(a.top1Probability - b.top1Probability) < 1e-6);
    }
    // A batch of padding only routes nothing and its balancing losses are 0, not NaN.
    m->forward(inB.slice(0, 2, 3), maskB.slice(0, 2, 3));
    QCOMPARE(m->auxiliaryLoss().item<double>(), 0.0);
    QCOMPARE(m->routingStats()[0].assignments, int64_t(0));
    // Without the mask the 48 positions of batch B would all be routed.
    m->forward(inB);
    QCOMPARE(m->routingStats()[0].assignments, int64_t(48 * 2));
  }
  void topKWeightsSumToOne() {
    auto cfg = sparseConfig(6, 3, 0.0);
    RouterTopK router(cfg);
    auto plan = router->route(torch::randn({20, 8}), 0.0);
    QCOMPARE(plan.stats.dropped, int64_t(0));
    auto sums = torch::zeros({20}).index_add(0, plan.tokenIndex, plan.weight.detach());
    QVERIFY(torch::allclose(sums, torch::ones({20}), 1e-6, 1e-6));
  }
  void auxLossIsOneWhenUniformAndGrowsWithSkew() {
    for (int64_t k : {1, 2, 3}) {
      auto cfg = sparseConfig(4, k, 0.0);
      cfg.embedDim = 4;
      RouterTopK router(cfg);
      torch::NoGradGuard g;
      router->weight.copy_(torch::eye(4));
      auto plan = router->route(roundRobinTokens(64, 4, 3.0), 0.0);
      QVERIFY2(std::abs(plan.stats.auxLoss - 1.0) < 1e-5, std::to_string(plan.stats.auxLoss).c_str());
    }
    auto cfg = sparseConfig(4, 2, 0.0);
    cfg.embedDim = 4;
    RouterTopK router(cfg);
    torch::NoGradGuard g;
    double previous = 1.0;
    for (double skew : {0.5, 1.0, 2.0, 4.0}) {
      router->weight.zero_();
      router->weight[0].fill_(skew);  // every token leans towards expert 0
      auto plan = router->route(torch::rand({64, 4}) + 0.5, 0.0);
      QVERIFY2(plan.stats.auxLoss > previous, std::to_string(plan.stats.auxLoss).c_str());
      previous = plan.stats.auxLoss;
    }
  }
  void zLossMatchesItsFormula() {
    auto cfg = sparseConfig(5, 2, 0.0);
    RouterTopK router(cfg);
    auto x = torch::randn({30, 8});
    auto plan = router->route(x, 0.0);
    auto expected = torch::logsumexp(torch::matmul(x, router->weight.t()), -1).pow(2).mean();
    QVERIFY(torch::allclose(plan.zLoss, expected, 1e-6, 1e-6));
  }
  void gradientsAreFiniteAtPerfectlyBalancedRouting() {
    auto cfg = sparseConfig(4, 2, 1.0);
    cfg.embedDim = 4;
    SparseMoeFfn moe(cfg);
    {
      torch::NoGradGuard g;
      moe->router->weight.copy_(torch::eye(4));
    }
    auto y = moe->forward(roundRobinTokens(32, 4, 3.0));
    (y.sum() + moe->lastAuxLoss + moe->lastZLoss).backward();
    QCOMPARE(moe->lastStats.coefficientOfVariation(), 0.0);
    for (const auto& p : moe->parameters()) QVERIFY(torch::isfinite(p.grad()).all().item<bool>());
  }
  void oneExpertTopOneDroplessEqualsDenseSwiGlu() {
    auto cfg = sparseConfig(1, 1, 0.0);
    SparseMoeFfn moe(cfg);
    SwiGluFfn dense(8, 12);
    torch::NoGradGuard g;
    dense->w1.copy_(moe->experts->w1[0]);
    dense->w3.copy_(moe->experts->w3[0]);
    dense->w2.copy_(moe->experts->w2[0]);
    auto x = torch::randn({10, 8});
    QVERIFY(torch::allclose(moe->forward(x), dense->forward(x), 1e-6, 1e-6));
  }
  void auxFreeBiasMovesTowardsBalance() {
    auto cfg = sparseConfig(4, 1, 0.0);
    cfg.auxFreeBalancing = true;
    cfg.auxFreeGamma = 0.01;
    RouterTopK router(cfg);
    router->train();
    {
      torch::NoGradGuard g;
      router->weight.zero_();
      router->weight[0].fill_(1.0);
    }
    router->route(torch::rand({40, 8}), 0.0);  // all to expert 0
    router->updateSelectionBias();
    auto b = router->selectionBias;
    QVERIFY(b[0].item<float>() < 0);
    QVERIFY(b[1].item<float>() > 0);
    QCOMPARE(b.dtype(), torch::kFloat);
  }
  void seedConfigParameterCountMatchesClosedForm() {
    // The seed's MoE Transformer: D 1024, 16 query / 8 KV heads (hd 64), 64 SwiGLU experts of width
    // 512, RMSNorm, QK-norm, gated attention (G1 gate D x D), no biases, tied embeddings, vocab 50304.
    auto closedForm = [](int64_t L) {
      const int64_t D = 1024, hd = 64, H = 16, Hkv = 8, E = 64, I = 512, V = 50304;
      const int64_t attention = D * (H + 2 * Hkv) * hd + D * D /*gate*/ + D * D /*out*/ + 2 * hd /*qk norm*/;
      const int64_t layer = attention + 2 * D /*norms*/ + E * D /*router*/ + E * 3 * D * I;
      return V * D + L * layer + D /*final norm*/;
    };
    auto cfg =
        ExperimentConfig::load(std::string(MOELAB_SOURCE_DIR) + "/experiments/seed-moe-transformer.json");
    for (int64_t L : {1, 2}) {
      auto m = resolveModelConfig(cfg, 50257);
      m.numLayers = L;
      QCOMPARE(LanguageModel(m)->parameterBreakdown().total, closedForm(L));
    }
    QCOMPARE(closedForm(16), int64_t(1730317312));  // 1.73B, as `moelab-cli params` prints
  }
  void smallSparseModelLearnsWithoutDeadExperts() {
    auto cfg = ExperimentConfig::fromJson(
        {{"model",
          {{"architecture", "sparse_moe"},
           {"embed_dim", 32},
           {"num_layers", 2},
           {"num_heads", 4},
           {"n_kv_heads", 2},
           {"num_experts", 4},
           {"top_k", 2},
           {"expert_intermediate_dim", 48},
           {"position", "rope"},
           {"norm", "rmsnorm"},
           {"qk_norm", true},
           {"gated_attention", true},
           {"tie_embeddings", true},
           {"max_seq_length", 32},
           {"dropout", 0.0}}},
         {"data", {{"tokenizer", "char"}, {"num_train_samples", 400}, {"num_eval_samples", 32}}},
         {"train",
          {{"batch_size", 8},
           {"learning_rate", 3e-3},
           {"epochs", 1},
           {"max_batches_per_epoch", 50},
           {"eval_every", 0},
           {"log_every", 5},
           {"warmup_steps", 5}}}});
    auto data = LmDataset::load(cfg, DataLocator(test::dataDir().toStdString()));
    QTemporaryDir d;
    struct Sink : MetricSink {
      std::map<std::string, double> last;
      void onMetrics(const std::vector<MetricPoint>& points) override {
        for (const auto& p : points) last[p.key] = p.value;
      }
    } sink;
    Trainer t(cfg, data, d.path().toStdString(), &sink);
    auto before = evaluate(t.model(), data.valid, 8);
    QVERIFY(t.run() == RunOutcome::Finished);
    auto after = evaluate(t.model(), data.valid, 8);
    QVERIFY2(after.loss < before.loss - 1.0,
             (std::to_string(before.loss) + " -> " + std::to_string(after.loss)).c_str());
    QCOMPARE(sink.last.at("moe/dead_experts_max"), 0.0);
    QVERIFY(sink.last.count("moe/layer1/gini"));
    QVERIFY(sink.last.at("moe/aux_loss_mean") > 0);
  }
};
MOELAB_TEST_SUITE(SparseMoeTest)
#include "SparseMoeTest.moc"
