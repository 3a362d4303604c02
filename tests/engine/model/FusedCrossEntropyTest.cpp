#include <QtTest/QtTest>

#include "TestSuite.h"
#include "model/FusedCrossEntropy.h"

using namespace moelab;

class FusedCrossEntropyTest : public QObject {
  Q_OBJECT
  static torch::Tensor reference(const torch::Tensor& logits, const torch::Tensor& targets) {
    return torch::nn::functional::cross_entropy(
        logits, targets, torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
  }

 private slots:
  // Loss and gradient equal LibTorch's cross_entropy: a vocabulary that is not a multiple of the
  // vector width, large logits, and rows whose target is ignored.
  void matchesLibTorchLossAndGradient() {
    torch::manual_seed(5);
    for (int64_t V : {1, 7, 8, 1003}) {
      auto base = (torch::randn({37, V}) * 20).requires_grad_();
      auto targets = torch::randint(V, {37}, torch::kLong);
      targets.index_put_({torch::tensor({0, 5, 36})}, -100);
      auto x1 = base.detach().clone().requires_grad_(), x2 = base.detach().clone().requires_grad_();
      auto fused = fusedCrossEntropy(x1, targets), ref = reference(x2, targets);
      const std::string what = "V=" + std::to_string(V);
      QVERIFY2(std::abs(fused.item<double>() - ref.item<double>()) < 1e-5 * std::max(1.0, ref.item<double>()),
               what.c_str());
      (fused * 0.5).backward();  // an upstream gradient other than 1 scales the saved one
      (ref * 0.5).backward();
      QVERIFY2(torch::allclose(x1.grad(), x2.grad(), 1e-5, 1e-7), what.c_str());
      QVERIFY2(x1.grad()[5].abs().sum().item<double>() == 0, what.c_str());  // ignored row: no gradient
    }
  }

  // The fused head + loss against Linear (or the tied matmul) + LibTorch's cross-entropy over the
  // unpadded columns: loss and the gradients of hidden states, weight and bias, with a padded
  // vocabulary, ignored rows and an upstream gradient other than 1.
  void fusedHeadMatchesHeadThenLoss() {
    torch::manual_seed(7);
    for (bool withBias : {true, false})
      for (int64_t Vp : {13, 1003}) {
        const int64_t N = 29, D = 24, V = Vp == 13 ? 13 : 1000;
        auto h0 = torch::randn({N, D}), w0 = torch::randn({Vp, D}) * 0.5, b0 = torch::randn({Vp});
        auto targets = torch::randint(V, {N}, torch::kLong);
        targets.index_put_({torch::tensor({2, 20})}, -100);
        auto h1 = h0.clone().requires_grad_(), w1 = w0.clone().requires_grad_(),
             b1 = b0.clone().requires_grad_();
        auto h2 = h0.clone().requires_grad_(), w2 = w0.clone().requires_grad_(),
             b2 = b0.clone().requires_grad_();
        auto fused = fusedHeadCrossEntropy(h1, w1, withBias ? b1 : torch::Tensor(), targets, V);
        auto logits = torch::mm(h2, w2.t());
        if (withBias) logits = logits + b2;
        auto ref = reference(logits.narrow(1, 0, V), targets);
        const std::string what = "bias=" + std::to_string(withBias) + " Vp=" + std::to_string(Vp);
        QVERIFY2(
            std::abs(fused.item<double>() - ref.item<double>()) < 1e-5 * std::max(1.0, ref.item<double>()),
            what.c_str());
        (fused * 0.7).backward();
        (ref * 0.7).backward();
        QVERIFY2(torch::allclose(h1.grad(), h2.grad(), 1e-4, 1e-6), what.c_str());
        QVERIFY2(torch::allclose(w1.grad(), w2.grad(), 1e-4, 1e-6), what.c_str());
        if (withBias) {
          QVERIFY2(torch::allclose(b1.grad(), b2.grad(), 1e-4, 1e-6), what.c_str());
          QCOMPARE(b1.grad().narrow(0, V, Vp - V).abs().sum().item<double>(), 0.0);  // padded columns
        }
      }
  }

  // Evaluation (no gradient wanted) gives the same loss without keeping a gradient buffer.
  void evaluationLossWithoutGradient() {
    torch::manual_seed(6);
    auto x = torch::randn({16, 300}), t = torch::randint(300, {16}, torch::kLong);
    torch::NoGradGuard noGrad;
    QVERIFY(std::abs(fusedCrossEntropy(x, t).item<double>() - reference(x, t).item<double>()) < 1e-5);
  }

  // A NaN anywhere in a row (a corrupted weight) makes the loss NaN, as LibTorch's: the trainer's
  // divergence check depends on it. Also for the vectorised part of a row, not only its tail.
  void nanLogitGivesNanLoss() {
    for (int64_t col : {0, 12, 1002}) {
      auto x = torch::randn({3, 1003});
      x[1][col] = std::numeric_limits<float>::quiet_NaN();
      QVERIFY2(std::isnan(fusedCrossEntropy(x, torch::tensor({1, 2, 3})).item<double>()),
               std::to_string(col).c_str());
    }
  }

  // As LibTorch: no counted rows is NaN; a target outside the vocabulary is an error naming it.
  void ignoredEverywhereAndOutOfRange() {
    auto x = torch::randn({4, 10});
    QVERIFY(std::isnan(fusedCrossEntropy(x, torch::full({4}, -100, torch::kLong)).item<double>()));
    bool threw = false;
    try {
      fusedCrossEntropy(x, torch::tensor({1, 2, 10, 3}));
    } catch (const c10::Error& e) {
      threw = std::string(e.what()).find("Target 10 is out of bounds") != std::string::npos;
    }
    QVERIFY(threw);
  }
};
MOELAB_TEST_SUITE(FusedCrossEntropyTest)
#include "FusedCrossEntropyTest.moc"
