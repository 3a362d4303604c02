#include <QtTest/QtTest>
#include <sstream>

#include "TestSuite.h"
#include "train/FusedAdamW.h"

using namespace moelab;

class FusedAdamWTest : public QObject {
  Q_OBJECT
  // Parameter sizes with and without an AVX2 tail; the same values for both optimizers.
  static std::vector<torch::Tensor> parameters(uint64_t seed) {
    torch::manual_seed(seed);
    return {torch::randn({1000}).requires_grad_(), torch::randn({37, 5}).requires_grad_(),
            torch::randn({3}).requires_grad_()};
  }
  static std::vector<torch::Tensor> copies(const std::vector<torch::Tensor>& ps) {
    std::vector<torch::Tensor> out;
    for (const auto& p : ps) out.push_back(p.detach().clone().requires_grad_());
    return out;
  }
  static double maxDifference(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
    double d = 0;
    for (size_t i = 0; i < a.size(); ++i) d = std::max(d, (a[i] - b[i]).abs().max().item<double>());
    return d;
  }
  static void sameRandomGradient(torch::Tensor& a, torch::Tensor& b) {
    auto g = torch::randn_like(a);
    a.mutable_grad() = g.clone();
    b.mutable_grad() = g.clone();
  }
  static torch::optim::AdamWOptions options() {
    return torch::optim::AdamWOptions(3e-2).weight_decay(0.1).betas({0.85, 0.97});
  }

 private slots:
  // The update the training step relies on: LibTorch's AdamW, to float rounding, step after step.
  void matchesLibTorchAdamW() {
    auto a = parameters(1), b = copies(a);
    torch::optim::AdamW reference(a, options());
    FusedAdamW fused(b, options());
    for (int step = 0; step < 30; ++step) {
      for (size_t i = 0; i < a.size(); ++i) sameRandomGradient(a[i], b[i]);
      reference.step();
      fused.step();
    }
    QVERIFY2(maxDifference(a, b) < 1e-5, std::to_string(maxDifference(a, b)).c_str());
    QVERIFY(maxDifference(a, parameters(1)) > 0.1);  // they did move
  }

  // dropGradients + a parameter that got no gradient this step = zero_grad + a zero gradient; a
  // parameter that never had a gradient is left alone, as LibTorch leaves it.
  void droppedGradientUpdatesAsZero() {
    auto a = parameters(2), b = copies(a);
    torch::optim::AdamW reference(a, options());
    FusedAdamW fused(b, options());
    for (int step = 0; step < 6; ++step) {
      reference.zero_grad();
      dropGradients(fused);
      QVERIFY(!b[0].grad().defined());
      const bool first = step < 2;  // parameter 0 gets gradients only in the first two steps
      if (first) sameRandomGradient(a[0], b[0]);
      sameRandomGradient(a[1], b[1]);
      reference.step();
      fused.step();
    }
    QVERIFY2(maxDifference(a, b) < 1e-5, std::to_string(maxDifference(a, b)).c_str());
    QVERIFY(torch::equal(b[2], parameters(2)[2]));  // never had a gradient: untouched
  }

  // The state is LibTorch's: a checkpoint written by the fused optimizer resumes the same updates.
  void stateSavesAndResumes() {
    auto a = parameters(3), b = copies(a);
    FusedAdamW first(a, options());
    auto step = [](FusedAdamW& opt, std::vector<torch::Tensor>& ps, uint64_t seed) {
      torch::manual_seed(seed);
      for (auto& p : ps) p.mutable_grad() = torch::randn_like(p);
      opt.step();
    };
    for (uint64_t s = 0; s < 4; ++s) step(first, a, 100 + s);
    std::stringstream buffer;
    {
      torch::serialize::OutputArchive out;
      first.save(out);
      out.save_to(buffer);
    }
    for (size_t i = 0; i < a.size(); ++i) b[i].detach().copy_(a[i].detach());
    FusedAdamW resumed(b, options());
    torch::serialize::InputArchive in;
    in.load_from(buffer);
    resumed.load(in);
    for (uint64_t s = 4; s < 8; ++s) {
      step(first, a, 100 + s);
      step(resumed, b, 100 + s);
    }
    QCOMPARE(maxDifference(a, b), 0.0);
  }
};
MOELAB_TEST_SUITE(FusedAdamWTest)
#include "FusedAdamWTest.moc"
