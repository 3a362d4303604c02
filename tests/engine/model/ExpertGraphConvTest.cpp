#include <QtTest/QtTest>

#include "TestSuite.h"
#include "model/ExpertGraphConv.h"
#include "model/LanguageModel.h"

using namespace moelab;

class ExpertGraphConvTest : public QObject {
  Q_OBJECT
  // The seed's formulation: a loop over every token and every expert pair.
  static torch::Tensor perPairReference(ExpertGraphConv& g, const torch::Tensor& h) {
    const int64_t N = h.size(0), E = h.size(1), D = h.size(2);
    auto A = torch::sigmoid(g->adjacencyLogits);
    auto out = torch::zeros_like(h);
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t i = 0; i < E; ++i) {
        auto m = torch::zeros({D});
        for (int64_t j = 0; j < E; ++j) {
          if (j == i) continue;
          auto c = torch::sigmoid(g->edge(torch::cat({h[n][i], h[n][j]}).unsqueeze(0))).squeeze();
          m = m + A[i][j] * c * h[n][j];
        }
        out[n][i] = torch::gelu(g->neighbour(m.unsqueeze(0)) + g->self(h[n][i].unsqueeze(0))).squeeze(0);
      }
    }
    return out;
  }
 private slots:
  void vectorisedMatchesPerPairForm() {
    torch::manual_seed(3);
    for (int64_t E : {1, 3, 5}) {
      ExpertGraphConv g(E, 16);
      auto h = torch::randn({7, E, 16});
      auto fast = g->forward(h);
      auto slow = perPairReference(g, h);
      QVERIFY2(torch::allclose(fast, slow, 1e-5, 1e-5), ("E=" + std::to_string(E)).c_str());
    }
  }
  // The message kernel's backward (hand-written, not bmm's) against autograd through the seed's loops.
  void gradientsMatchPerPairForm() {
    torch::manual_seed(4);
    ExpertGraphConv g(3, 16);
    auto r = torch::randn({7, 3, 16});
    auto h1 = torch::randn({7, 3, 16}).requires_grad_(), h2 = h1.detach().clone().requires_grad_();
    (g->forward(h1) * r).sum().backward();
    const auto adjacency = g->adjacencyLogits.grad().clone(), edge = g->edge->weight.grad().clone();
    g->zero_grad();
    (perPairReference(g, h2) * r).sum().backward();
    QVERIFY(torch::allclose(h1.grad(), h2.grad(), 1e-4, 1e-5));
    QVERIFY(torch::allclose(adjacency, g->adjacencyLogits.grad(), 1e-4, 1e-5));
    QVERIFY(torch::allclose(edge, g->edge->weight.grad(), 1e-4, 1e-5));
  }
  void gradientsReachAdjacencyAndEdgeWeights() {
    ExpertGraphConv g(4, 8);
    auto h = torch::randn({5, 4, 8});
    g->forward(h).sum().backward();
    QVERIFY(g->adjacencyLogits.grad().abs().sum().item<double>() > 0);
    QVERIFY(g->edge->weight.grad().abs().sum().item<double>() > 0);
    // The diagonal (self edges) never contributes.
    QCOMPARE(g->adjacencyLogits.grad().diagonal().abs().sum().item<double>(), 0.0);
  }
  void effectiveCouplingEqualsPerTokenReference() {
    // A_ij c_ij per token, from the seed's per-pair form, then mean and (population) standard
    // deviation over the recorded tokens only.
    torch::manual_seed(5);
    const int64_t N = 9, E = 4, D = 8;
    ExpertGraphConv g(E, D);
    auto h = torch::randn({N, E, D});
    auto rows = torch::tensor({0, 2, 3, 7}, torch::kLong);
    g->recording = true;
    g->rows = rows;
    g->forward(h);
    auto A = torch::sigmoid(g->adjacencyLogits).detach();
    auto perToken = torch::zeros({rows.size(0), E, E}, torch::kDouble);
    for (int64_t r = 0; r < rows.size(0); ++r) {
      const int64_t n = rows[r].item<int64_t>();
      for (int64_t i = 0; i < E; ++i)
        for (int64_t j = 0; j < E; ++j) {
          if (i == j) continue;
          auto c = torch::sigmoid(g->edge(torch::cat({h[n][i], h[n][j]}).unsqueeze(0))).squeeze();
          perToken[r][i][j] = (A[i][j] * c).item<double>();
        }
    }
    auto mean = perToken.mean(0), spread = (perToken - mean).pow(2).mean(0).sqrt();
    QVERIFY(torch::allclose(g->lastEffective.to(torch::kDouble), mean, 1e-6, 1e-6));
    QVERIFY(torch::allclose(g->lastSpread.to(torch::kDouble), spread, 1e-6, 1e-6));
    QCOMPARE(g->lastEffective.diagonal().abs().sum().item<double>(), 0.0);
    QVERIFY(!g->lastEffective.requires_grad());
  }
  void outputShareIsTheNormalisedMeanNormOfPostGnnStates() {
    torch::manual_seed(6);
    GnnCoupler c(3, 8, 2);
    auto x = torch::randn({6, 3, 8});
    c->record(true, {});
    auto out = c->forward(x);
    auto h = x;
    for (const auto& layer : *c->gnn) h = layer->as<ExpertGraphConv>()->forward(h) + h;
    auto norms = h.detach().norm(2, -1).mean(0);
    QVERIFY(torch::allclose(c->lastShare, norms / norms.sum(), 1e-6, 1e-6));
    QVERIFY(std::abs(c->lastShare.sum().item<double>() - 1.0) < 1e-6);
    // Recording only observes: the output is what it is without it.
    c->record(false, {});
    QVERIFY(torch::allclose(c->forward(x), out, 0, 0));
  }
  void modelCouplingIgnoresPaddingAndChangesNothing() {
    torch::manual_seed(7);
    ModelConfig cfg;
    cfg.architecture = "gnn_moe";
    cfg.vocabSize = 50;
    cfg.embedDim = 16;
    cfg.numLayers = 2;
    cfg.numHeads = 2;
    cfg.numExperts = 3;
    cfg.gnnLayers = 2;
    cfg.maxSeqLength = 8;
    cfg.dropout = 0.0;
    LanguageModel m(cfg);
    m->eval();
    torch::NoGradGuard noGrad;
    auto tokens = torch::randint(1, 50, {2, 8}, torch::kLong);
    auto mask = torch::ones({2, 8}, torch::kBool);
    mask[1].slice(0, 5).fill_(false);  // row 1: five real tokens, then padding
    auto plain = m->forward(tokens, mask);
    m->recordCoupling(true);
    auto recorded = m->forward(tokens, mask);
    m->recordCoupling(false);
    QVERIFY(torch::equal(plain, recorded));
    auto a = m->lastCoupling();
    QCOMPARE(a.size(), size_t(2));
    QCOMPARE(a[0].effective.size(), size_t(2));
    QCOMPARE(a[0].spread[1].sizes().vec(), (std::vector<int64_t>{3, 3}));
    // Other pad tokens: what real tokens see (causal attention) and so the coupling are unchanged.
    auto other = tokens.clone();
    other[1].slice(0, 5).fill_(3);
    m->recordCoupling(true);
    m->forward(other, mask);
    m->recordCoupling(false);
    auto b = m->lastCoupling();
    for (size_t l = 0; l < a.size(); ++l) {
      QVERIFY(torch::allclose(a[l].share, b[l].share, 1e-6, 1e-6));
      for (size_t g = 0; g < a[l].effective.size(); ++g) {
        QVERIFY(torch::allclose(a[l].effective[g], b[l].effective[g], 1e-6, 1e-6));
        QVERIFY(torch::allclose(a[l].spread[g], b[l].spread[g], 1e-6, 1e-6));
      }
    }
    // Counting the pads would have moved it.
    m->recordCoupling(true);
    m->forward(other);
    m->recordCoupling(false);
    QVERIFY(!torch::allclose(m->lastCoupling()[1].effective[0], a[1].effective[0], 1e-6, 1e-6));
  }
  void sixteenExpertsFitEasily() {
    // The seed's per-pair loop ran out of memory at 16 experts; vectorised it is one [N,E,E] tensor.
    GnnCoupler c(16, 64, 2);
    auto out = c->forward(torch::randn({256, 16, 64}));
    QCOMPARE(out.sizes().vec(), (std::vector<int64_t>{256, 64}));
  }
};
MOELAB_TEST_SUITE(ExpertGraphConvTest)
#include "ExpertGraphConvTest.moc"
