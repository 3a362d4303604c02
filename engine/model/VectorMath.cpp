#include "model/VectorMath.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace moelab::vec {
namespace {

// exp(x) for x <= 0: Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, a degree-7 polynomial for
// e^r (the Cephes expf coefficients, ~1 ulp), then scaling by 2^n.
__attribute__((target("avx2,fma"))) inline __m256 expNonPositive(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.33654f));  // e^-87.3 ~ 1e-38: the smallest normal float
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r);
  p = _mm256_add_ps(p, _mm256_set1_ps(1.0f));
  const __m256i scale =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(scale));
}

__attribute__((target("avx2,fma"))) float horizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) float maxOfAvx2(const float* x, int64_t n) {
  __m256 m = _mm256_set1_ps(-std::numeric_limits<float>::infinity()), nan = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 v = _mm256_loadu_ps(x + j);
    m = _mm256_max_ps(m, v);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));  // maxps alone would drop a NaN
  }
  if (_mm256_movemask_ps(nan) != 0) return std::numeric_limits<float>::quiet_NaN();
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, m);
  float best = *std::max_element(lanes, lanes + 8);
  for (; j < n; ++j) {
    if (std::isnan(x[j])) return x[j];
    best = std::max(best, x[j]);
  }
  return best;
}

// exp(scale * (x - shift)) for eight elements.
__attribute__((target("avx2,fma"))) inline __m256 expTerm(const float* x, __m256 shift, __m256 scale) {
  return expNonPositive(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x), shift), scale));
}

// Four accumulators: throughput, and a smaller rounding error on long rows.
__attribute__((target("avx2,fma"))) float sumExpAvx2(const float* x, int64_t n, float shift, float scale) {
  const __m256 s = _mm256_set1_ps(shift), c = _mm256_set1_ps(scale);
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    a0 = _mm256_add_ps(a0, expTerm(x + j, s, c));
    a1 = _mm256_add_ps(a1, expTerm(x + j + 8, s, c));
    a2 = _mm256_add_ps(a2, expTerm(x + j + 16, s, c));
    a3 = _mm256_add_ps(a3, expTerm(x + j + 24, s, c));
  }
  for (; j + 8 <= n; j += 8) a0 = _mm256_add_ps(a0, expTerm(x + j, s, c));
  float total = horizontalSum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; j < n; ++j) total += std::exp(scale * (x[j] - shift));
  return total;
}

__attribute__((target("avx2,fma"))) void expIntoAvx2(const float* x, float* out, int64_t n, float shift,
                                                     float scale, float factor) {
  const __m256 s = _mm256_set1_ps(shift), c = _mm256_set1_ps(scale), f = _mm256_set1_ps(factor);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) _mm256_storeu_ps(out + j, _mm256_mul_ps(expTerm(x + j, s, c), f));
  for (; j < n; ++j) out[j] = std::exp(scale * (x[j] - shift)) * factor;
}

__attribute__((target("avx2,fma"))) float dotAvx2(const float* a, const float* b, int64_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0;
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 8), _mm256_loadu_ps(b + j + 8), a1);
  }
  for (; j + 8 <= n; j += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), a0);
  float total = horizontalSum(_mm256_add_ps(a0, a1));
  for (; j < n; ++j) total += a[j] * b[j];
  return total;
}

__attribute__((target("avx2,fma"))) void addIntoAvx2(float* x, const float* y, int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    _mm256_storeu_ps(x + j, _mm256_add_ps(_mm256_loadu_ps(x + j), _mm256_loadu_ps(y + j)));
  for (; j < n; ++j) x[j] += y[j];
}

// erfc(z) for z >= 0 as t exp(-z^2 + P(t)), t = 1 / (1 + z/2): the Chebyshev fit of Press et al.
// (Numerical Recipes, erfcc), relative error < 1.2e-7 for every z >= 0. Written for 1 + erf(x)
// = erfc(-x): no cancellation for negative x, where GELU's value is a small multiple of it.
__attribute__((target("avx2,fma"))) inline __m256 erfcNonNegative(__m256 z) {
  const __m256 t =
      _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(z, _mm256_set1_ps(0.5f), _mm256_set1_ps(1.0f)));
  __m256 p = _mm256_set1_ps(0.17087277f);
  for (float c : {-0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f, -0.18628806f, 0.09678418f,
                  0.37409196f, 1.00002368f, -1.26551223f})
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(c));
  return _mm256_mul_ps(t, expNonPositive(_mm256_fnmadd_ps(z, z, p)));
}

// 1 + erf(x / sqrt 2) and, for the derivative, exp(-x^2 / 2).
__attribute__((target("avx2,fma"))) inline __m256 onePlusErfScaled(__m256 x, __m256* gauss) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 z = _mm256_mul_ps(_mm256_andnot_ps(sign, x), _mm256_set1_ps(0.70710678118654752f));
  const __m256 c = erfcNonNegative(z);
  if (gauss) *gauss = expNonPositive(_mm256_mul_ps(_mm256_mul_ps(z, z), _mm256_set1_ps(-1.0f)));
  const __m256 negative = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ);
  return _mm256_blendv_ps(_mm256_sub_ps(_mm256_set1_ps(2.0f), c), c, negative);
}

__attribute__((target("avx2,fma"))) void geluIntoAvx2(const float* x, float* out, int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 v = _mm256_loadu_ps(x + j);
    _mm256_storeu_ps(out + j,
                     _mm256_mul_ps(_mm256_mul_ps(v, _mm256_set1_ps(0.5f)), onePlusErfScaled(v, nullptr)));
  }
  for (; j < n; ++j) out[j] = 0.5f * x[j] * std::erfc(-x[j] * 0.70710678118654752f);
}

constexpr float kInvSqrt2Pi = 0.39894228040143268f;

__attribute__((target("avx2,fma"))) void geluGradIntoAvx2(const float* x, const float* dy, float* dx,
                                                          int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 v = _mm256_loadu_ps(x + j);
    __m256 gauss;
    const __m256 cdf = _mm256_mul_ps(onePlusErfScaled(v, &gauss), _mm256_set1_ps(0.5f));
    const __m256 slope = _mm256_fmadd_ps(_mm256_mul_ps(v, gauss), _mm256_set1_ps(kInvSqrt2Pi), cdf);
    _mm256_storeu_ps(dx + j, _mm256_mul_ps(slope, _mm256_loadu_ps(dy + j)));
  }
  for (; j < n; ++j) {
    const float cdf = 0.5f * std::erfc(-x[j] * 0.70710678118654752f);
    dx[j] = dy[j] * (cdf + x[j] * std::exp(-0.5f * x[j] * x[j]) * kInvSqrt2Pi);
  }
}

const bool kAvx2 = hasAvx2Fma();

}  // namespace

bool hasAvx2Fma() {
  static const bool has = [] {
    __builtin_cpu_init();  // may run before libgcc's own initialiser
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return has;
}

float maxOf(const float* x, int64_t n) {
  if (kAvx2) return maxOfAvx2(x, n);
  float best = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < n; ++j) {
    if (std::isnan(x[j])) return x[j];
    best = std::max(best, x[j]);
  }
  return best;
}

float sumExp(const float* x, int64_t n, float shift, float scale) {
  if (kAvx2) return sumExpAvx2(x, n, shift, scale);
  float total = 0;
  for (int64_t j = 0; j < n; ++j) total += std::exp(scale * (x[j] - shift));
  return total;
}

void expInto(const float* x, float* out, int64_t n, float shift, float scale, float factor) {
  if (kAvx2) return expIntoAvx2(x, out, n, shift, scale, factor);
  for (int64_t j = 0; j < n; ++j) out[j] = std::exp(scale * (x[j] - shift)) * factor;
}

float dot(const float* a, const float* b, int64_t n) {
  if (kAvx2) return dotAvx2(a, b, n);
  float total = 0;
  for (int64_t j = 0; j < n; ++j) total += a[j] * b[j];
  return total;
}

void addInto(float* x, const float* y, int64_t n) {
  if (kAvx2) return addIntoAvx2(x, y, n);
  for (int64_t j = 0; j < n; ++j) x[j] += y[j];
}

void geluInto(const float* x, float* out, int64_t n) {
  if (kAvx2) return geluIntoAvx2(x, out, n);
  for (int64_t j = 0; j < n; ++j) out[j] = 0.5f * x[j] * std::erfc(-x[j] * 0.70710678118654752f);
}

void geluGradInto(const float* x, const float* dy, float* dx, int64_t n) {
  if (kAvx2) return geluGradIntoAvx2(x, dy, dx, n);
  for (int64_t j = 0; j < n; ++j) {
    const float cdf = 0.5f * std::erfc(-x[j] * 0.70710678118654752f);
    dx[j] = dy[j] * (cdf + x[j] * std::exp(-0.5f * x[j] * x[j]) * kInvSqrt2Pi);
  }
}

}  // namespace moelab::vec
