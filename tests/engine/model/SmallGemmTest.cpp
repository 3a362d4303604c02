#include <QtTest/QtTest>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "TestSuite.h"
#include "model/SmallGemm.h"

using namespace moelab;

namespace {

// C = A·B in double precision, A read through its strides.
std::vector<double> reference(int64_t M, int64_t N, int64_t K, GemmLhs a, const std::vector<float>& b,
                              int64_t ldb) {
  std::vector<double> c(M * N, 0.0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j)
      for (int64_t p = 0; p < K; ++p)
        c[i * N + j] += double(a.data[i * a.rowStride + p * a.colStride]) * b[p * ldb + j];
  return c;
}

}  // namespace

class SmallGemmTest : public QObject {
  Q_OBJECT
 private slots:
  // Every tile shape the driver can produce: row counts 1..6 and beyond, column tails 1..15 on
  // either 8-float half, strided and transposed left operands, padded leading dimensions, and
  // accumulation into C.
  void matchesDoublePrecisionReference() {
    std::mt19937 gen(7);
    std::normal_distribution<float> normal;
    for (int64_t M : {1, 5, 6, 7, 13, 32})
      for (int64_t N : {1, 8, 9, 16, 23, 40})
        for (int64_t K : {1, 3, 32})
          for (bool transposed : {false, true})
            for (bool accumulate : {false, true}) {
              const int64_t lda = (transposed ? M : K) + 3, ldb = N + 5, ldc = N + 2;
              std::vector<float> a((transposed ? K : M) * lda), b(K * ldb), c(M * ldc);
              for (auto* v : {&a, &b, &c})
                for (float& x : *v) x = normal(gen);
              const std::vector<float> before = c;
              const GemmLhs lhs = transposed ? GemmLhs{a.data(), 1, lda} : GemmLhs{a.data(), lda, 1};
              smallGemm(M, N, K, lhs, b.data(), ldb, c.data(), ldc, accumulate);
              const auto want = reference(M, N, K, lhs, b, ldb);
              const std::string what = "M=" + std::to_string(M) + " N=" + std::to_string(N) +
                                       " K=" + std::to_string(K) + (transposed ? " Aᵀ" : "") +
                                       (accumulate ? " +=" : "");
              for (int64_t i = 0; i < M; ++i) {
                for (int64_t j = 0; j < N; ++j) {
                  const double expected = want[i * N + j] + (accumulate ? before[i * ldc + j] : 0.0);
                  QVERIFY2(std::fabs(c[i * ldc + j] - expected) <= 1e-4 * (1.0 + std::fabs(expected)),
                           what.c_str());
                }
                for (int64_t j = N; j < ldc; ++j)  // the padding of C is never written
                  QVERIFY2(c[i * ldc + j] == before[i * ldc + j], what.c_str());
              }
            }
  }

  // The causal modes give the exact product wherever the mode promises it, given operands that are
  // zero where the mode says they are; OutputLower leaves whole tiles above the diagonal untouched.
  void causalModesComputeWhatAttentionNeeds() {
    std::mt19937 gen(11);
    std::normal_distribution<float> normal;
    for (int64_t T : {1, 6, 17, 45, 128}) {
      const int64_t hd = 20;
      std::vector<float> q(T * hd), kT(hd * T), lower(T * T, 0.0f), v(T * hd);
      for (auto* m : {&q, &kT, &v})
        for (float& x : *m) x = normal(gen);
      for (int64_t i = 0; i < T; ++i)
        for (int64_t j = 0; j <= i; ++j) lower[i * T + j] = normal(gen);
      const std::string what = "T=" + std::to_string(T);

      std::vector<float> scores(T * T, 42.0f);
      smallGemm(T, T, hd, {q.data(), hd, 1}, kT.data(), T, scores.data(), T, false, CausalSkip::OutputLower);
      const auto full = reference(T, T, hd, {q.data(), hd, 1}, kT, T);
      for (int64_t i = 0; i < T; ++i)
        for (int64_t j = 0; j <= i; ++j)
          QVERIFY2(std::fabs(scores[i * T + j] - full[i * T + j]) <= 1e-4 * (1 + std::fabs(full[i * T + j])),
                   what.c_str());
      if (T == 128) QCOMPARE(scores[0 * T + 127], 42.0f);  // row tile 0 never reaches column tile 7

      std::vector<float> out(T * hd);  // KPrefix: P·V with P lower-triangular
      smallGemm(T, hd, T, {lower.data(), T, 1}, v.data(), hd, out.data(), hd, false, CausalSkip::KPrefix);
      auto want = reference(T, hd, T, {lower.data(), T, 1}, v, hd);
      for (int64_t i = 0; i < T * hd; ++i)
        QVERIFY2(std::fabs(out[i] - want[i]) <= 1e-4 * (1 + std::fabs(want[i])), what.c_str());

      // KSuffix: Pᵀ·V, Pᵀ upper-triangular.
      smallGemm(T, hd, T, {lower.data(), 1, T}, v.data(), hd, out.data(), hd, false, CausalSkip::KSuffix);
      want = reference(T, hd, T, {lower.data(), 1, T}, v, hd);
      for (int64_t i = 0; i < T * hd; ++i)
        QVERIFY2(std::fabs(out[i] - want[i]) <= 1e-4 * (1 + std::fabs(want[i])), what.c_str());
    }
  }
};
MOELAB_TEST_SUITE(SmallGemmTest)
#include "SmallGemmTest.moc"
