#include <QtTest/QtTest>
#include <cmath>

#include "TestSuite.h"
#include "model/CausalSoftmax.h"
#include "model/FastDropout.h"
#include "model/FusedCausalAttention.h"
#include "model/LanguageModel.h"
#include "model/Rope.h"
#include "model/StackedAttention.h"

using namespace moelab;

namespace {
ModelConfig attentionConfig(int64_t heads, int64_t kvHeads) {
  ModelConfig c{"dense", 16, 1, heads, 1, 0, 8, 40, 0.0};
  c.numKvHeads = kvHeads;
  return c;
}

// Textbook causal multi-head attention from the module's fused weights; KV head of query head h is
// h / (H / Hkv).
torch::Tensor referenceAttention(StackedAttention& a, const torch::Tensor& x /*[T, D]*/) {
  const int64_t T = x.size(0), D = a->dim, H = a->heads, Hkv = a->kvHeads, hd = a->headDim;
  auto proj = torch::matmul(x, a->qkvWeight[0]) + a->qkvBias[0];
  std::vector<torch::Tensor> heads;
  for (int64_t h = 0; h < H; ++h) {
    int64_t kv = h / (H / Hkv);
    auto q = proj.narrow(1, h * hd, hd);
    auto k = proj.narrow(1, H * hd + kv * hd, hd);
    auto v = proj.narrow(1, (H + Hkv) * hd + kv * hd, hd);
    auto s = torch::matmul(q, k.t()) / std::sqrt(double(hd));
    s = s.masked_fill(torch::ones({T, T}, torch::kBool).triu(1), -INFINITY);
    heads.push_back(torch::matmul(torch::softmax(s, -1), v));
  }
  return torch::matmul(torch::cat(heads, 1), a->outWeight[0]) + a->outBias[0];
  (void)D;
}
}  // namespace

class AttentionTest : public QObject {
  Q_OBJECT
 private slots:
  void gqaWithAllKvHeadsIsPlainMultiHeadAttention() {
    torch::manual_seed(5);
    StackedAttention a(1, attentionConfig(4, 4));
    torch::NoGradGuard g;
    a->qkvBias.normal_(0, 0.1);
    auto x = torch::randn({6, 16});
    auto got = a->forward(x.unsqueeze(0), 1, 6)[0];
    QVERIFY(torch::allclose(got, referenceAttention(a, x), 1e-5, 1e-5));
  }
  void groupedQueryAttentionSharesKvHeads() {
    torch::manual_seed(6);
    StackedAttention a(1, attentionConfig(4, 2));
    QCOMPARE(a->qkvWeight.size(2), int64_t((4 + 2 * 2) * 4));
    torch::NoGradGuard g;
    auto x = torch::randn({5, 16});
    QVERIFY(torch::allclose(a->forward(x.unsqueeze(0), 1, 5)[0], referenceAttention(a, x), 1e-5, 1e-5));
  }
  void ropeScoresDependOnlyOnRelativePosition() {
    const int64_t T = 12, hd = 8;
    auto table = RopeTable::build(T, hd, 10000.0);
    auto q = torch::randn({hd}).expand({1, 1, T, hd}), k = torch::randn({hd}).expand({1, 1, T, hd});
    auto scores = torch::matmul(applyRope(q, table), applyRope(k, table).transpose(-2, -1))[0][0];  // [T, T]
    for (int64_t m = 0; m + 1 < T; ++m)
      for (int64_t n = 0; n + 1 < T; ++n)
        QVERIFY(std::abs(scores[m][n].item<double>() - scores[m + 1][n + 1].item<double>()) < 1e-4);
    // ... and do depend on it.
    QVERIFY(std::abs(scores[3][0].item<double>() - scores[3][2].item<double>()) > 1e-4);
  }
  void gatedAttentionGateComesFromTheBlockInput() {
    auto cfg = attentionConfig(4, 4);
    cfg.gatedAttention = true;
    StackedAttention a(1, cfg);
    QCOMPARE(a->qkvWeight.size(2), int64_t(3 * 16 + 16));
    torch::NoGradGuard g;
    a->qkvWeight.narrow(2, 48, 16).fill_(0);
    a->qkvBias.narrow(1, 48, 16).fill_(-1e4);  // sigmoid(-1e4) = 0: the gate closes the attention output
    auto y = a->forward(torch::randn({1, 4, 16}), 1, 4);
    QVERIFY(torch::allclose(y, a->outBias.unsqueeze(1).expand_as(y)));
  }
  void tiedEmbeddingAndHeadShareStorageAndPaddedLogitsAreExcluded() {
    ModelConfig c{"sparse_moe", 16, 1, 2, 2, 0, 8, 50, 0.0};
    c.tieEmbeddings = true;
    c.vocabPadMultiple = 128;
    c.expertIntermediateDim = 8;
    c.topK = 1;
    LanguageModel m(c);
    QCOMPARE(m->headWeight().data_ptr(), m->tokenEmbedding->weight.data_ptr());
    QCOMPARE(m->tokenEmbedding->weight.size(0), int64_t(128));
    for (const auto& p : m->named_parameters()) QVERIFY(p.key().rfind("head", 0) != 0);
    auto logits = m->forward(torch::randint(50, {2, 8}));
    QCOMPARE(logits.size(-1), int64_t(50));
  }
  void qkNormNormalisesEachHead() {
    auto cfg = attentionConfig(2, 2);
    cfg.qkNorm = true;
    StackedAttention a(1, cfg);
    QCOMPARE(a->qNormWeight.sizes().vec(), (std::vector<int64_t>{1, 8}));
    // Scaling the input leaves QK-normed attention weights unchanged (no biases, no value scaling check).
    torch::NoGradGuard g;
    a->qkvBias.zero_();
    a->outBias.zero_();
    auto x = torch::randn({1, 5, 16});
    auto y1 = a->forward(x, 1, 5), y2 = a->forward(x * 10.0, 1, 5);
    QVERIFY2(torch::allclose(y2, y1 * 10.0, 1e-3, 1e-4),
             std::to_string((y2 - y1 * 10).abs().max().item<double>()).c_str());
  }
  // The fused causal softmax against the masked softmax it replaces: values and gradients, for
  // stacked query groups (rows = group * T), rows not a multiple of the vector width, and large
  // scores; nothing leaks to future keys in either direction.
  void causalSoftmaxMatchesMaskedSoftmax() {
    torch::manual_seed(11);
    for (int64_t T : {1, 13, 40}) {
      const int64_t group = 2;
      auto base = torch::randn({3, group * T, T}) * 30;
      auto x1 = base.clone().requires_grad_(), x2 = base.clone().requires_grad_();
      const double scale = 0.17;
      auto fused = causalSoftmax(x1, scale);
      auto position = torch::arange(group * T).remainder(T).unsqueeze(1);
      auto future = torch::arange(T).unsqueeze(0) > position;
      auto reference = torch::softmax((x2 * scale).masked_fill(future, -INFINITY), -1);
      const std::string what = "T=" + std::to_string(T);
      QVERIFY2(torch::allclose(fused, reference, 1e-5, 1e-6), what.c_str());
      QVERIFY2(fused.masked_select(future.expand_as(fused)).abs().sum().item<double>() == 0, what.c_str());
      auto upstream = torch::randn_like(base);
      (fused * upstream).sum().backward();
      (reference * upstream).sum().backward();
      QVERIFY2(torch::allclose(x1.grad(), x2.grad(), 1e-4, 1e-6), what.c_str());
      QVERIFY2(x1.grad().masked_select(future.expand_as(fused)).abs().sum().item<double>() == 0,
               what.c_str());
    }
  }

  // The fused kernel against the textbook composition, on strided views of one projection tensor as
  // the model passes them: GQA, T across the row blocks and not a multiple of 4, with and without
  // dropout (same key, so the same mask as fastDropout on the probabilities), values and gradients.
  void fusedAttentionMatchesComposition() {
    const torch::Tensor probe = torch::zeros({1, 1, 1, 1});
    QVERIFY(fusedAttentionSupported(probe, probe, probe));
    const int64_t G = 3, H = 4, Hkv = 2;
    for (int64_t T : {1, 7, 45, 70})
      for (int64_t hd : {8, 20, 32}) {
        for (double p : {0.0, 0.3}) {
          const std::string what =
              "T=" + std::to_string(T) + " hd=" + std::to_string(hd) + " p=" + std::to_string(p);
          torch::manual_seed(5);
          auto base = torch::randn({G, T, H + 2 * Hkv, hd});
          auto proj1 = base.clone().requires_grad_(), proj2 = base.clone().requires_grad_();
          const auto split = [&](const torch::Tensor& proj) {  // [G, heads, T, hd] strided views
            return std::array<torch::Tensor, 3>{proj.narrow(2, 0, H).transpose(1, 2),
                                                proj.narrow(2, H, Hkv).transpose(1, 2),
                                                proj.narrow(2, H + Hkv, Hkv).transpose(1, 2)};
          };
          const double scale = 1.0 / std::sqrt(double(hd));
          auto [q1, k1, v1] = split(proj1);
          torch::manual_seed(9);
          auto fused = fusedCausalAttention(q1, k1, v1, scale, p, true);  // [G, T, H, hd]

          auto [q2, k2, v2] = split(proj2);
          auto kr = k2.repeat_interleave(H / Hkv, 1), vr = v2.repeat_interleave(H / Hkv, 1);
          auto future = torch::arange(T).unsqueeze(0) > torch::arange(T).unsqueeze(1);
          auto probs = torch::softmax(
              (torch::matmul(q2, kr.transpose(2, 3)) * scale).masked_fill(future, -INFINITY), -1);
          torch::manual_seed(9);
          auto reference = torch::matmul(fastDropout(probs, p, true), vr).transpose(1, 2);
          QCOMPARE(fused.sizes(), reference.sizes());
          QVERIFY2(torch::allclose(fused, reference, 1e-4, 1e-5), what.c_str());
          auto upstream = torch::randn_like(reference);
          (fused * upstream).sum().backward();
          (reference * upstream).sum().backward();
          QVERIFY2(torch::allclose(proj1.grad(), proj2.grad(), 1e-4, 1e-5), what.c_str());

          // The packed kernel on the same projection laid out [G, T, columns] with gate columns after
          // the heads: the same values, the same gradient, zero for the columns it does not read.
          const int64_t gate = 5;
          auto packed = torch::cat({base.reshape({G, T, (H + 2 * Hkv) * hd}), torch::randn({G, T, gate})}, 2)
                            .requires_grad_();
          torch::manual_seed(9);
          auto fromPacked = fusedCausalAttentionPacked(packed, H, Hkv, hd, scale, p, true);
          QVERIFY2(torch::allclose(fromPacked, reference, 1e-4, 1e-5), what.c_str());
          (fromPacked * upstream).sum().backward();
          QVERIFY2(torch::allclose(packed.grad().narrow(2, 0, (H + 2 * Hkv) * hd),
                                   proj2.grad().reshape({G, T, (H + 2 * Hkv) * hd}), 1e-4, 1e-5),
                   what.c_str());
          QCOMPARE(packed.grad().narrow(2, (H + 2 * Hkv) * hd, gate).abs().sum().item<double>(), 0.0);
        }
      }
  }
};
MOELAB_TEST_SUITE(AttentionTest)
#include "AttentionTest.moc"
