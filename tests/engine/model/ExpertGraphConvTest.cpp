#include <QtTest/QtTest>

#include "TestSuite.h"
#include "model/ExpertGraphConv.h"

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
  void gradientsReachAdjacencyAndEdgeWeights() {
    ExpertGraphConv g(4, 8);
    auto h = torch::randn({5, 4, 8});
    g->forward(h).sum().backward();
    QVERIFY(g->adjacencyLogits.grad().abs().sum().item<double>() > 0);
    QVERIFY(g->edge->weight.grad().abs().sum().item<double>() > 0);
    // The diagonal (self edges) never contributes.
    QCOMPARE(g->adjacencyLogits.grad().diagonal().abs().sum().item<double>(), 0.0);
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
