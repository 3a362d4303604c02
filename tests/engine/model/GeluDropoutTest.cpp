#include <QtTest/QtTest>
#include <string>

#include "TestSuite.h"
#include "model/FastDropout.h"
#include "model/GeluDropout.h"

using namespace moelab;

class GeluDropoutTest : public QObject {
  Q_OBJECT
 private slots:
  // The fused op against the composition it replaces, evaluated in double precision as
  // x erfc(-x / sqrt 2) / 2 (LibTorch's GELU computes 1 + erf and loses the negative tail to
  // cancellation, in fp32 from x < -4, in double from x < -8; the fused one does not): values
  // and gradients, with the mask fastDropout draws from the same generator state. Sizes below and
  // above one parallel chunk and not a multiple of 4 or 8 (vector tails, mask quads); inputs out
  // to |x| = 12, where GELU's value rests on the erfc branch (-2e-32 at x = -12). Gradients get an
  // absolute floor: GELU' crosses zero at x = -0.75 as the difference of two terms near 0.23.
  void matchesGeluThenFastDropout() {
    for (int64_t n : {5, 555, 100003})
      for (double p : {0.0, 0.25})
        for (bool training : {true, false}) {
          const std::string what =
              "n=" + std::to_string(n) + " p=" + std::to_string(p) + (training ? " train" : " eval");
          torch::manual_seed(3);
          auto x = (torch::rand({n}) * 24 - 12).requires_grad_();
          torch::manual_seed(8);
          auto fused = geluDropout(x.view({1, n}), p, training);
          torch::manual_seed(8);
          const auto mask = fastDropout(torch::ones({1, n}), p, training).to(torch::kDouble);
          auto xd = x.detach().to(torch::kDouble).requires_grad_();
          auto reference = 0.5 * xd.view({1, n}) * torch::erfc(-xd.view({1, n}) * M_SQRT1_2) * mask;
          QVERIFY2(torch::allclose(fused.to(torch::kDouble), reference, 2e-5, 1e-37), what.c_str());
          auto upstream = torch::randn({1, n});
          (fused * upstream).sum().backward();
          (reference * upstream.to(torch::kDouble)).sum().backward();
          QVERIFY2(torch::allclose(x.grad().to(torch::kDouble), xd.grad(), 2e-5, 1e-7), what.c_str());
        }
  }
};
MOELAB_TEST_SUITE(GeluDropoutTest)
#include "GeluDropoutTest.moc"
