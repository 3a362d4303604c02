#include "model/FusedCrossEntropy.h"

#include <ATen/Parallel.h>
#include <immintrin.h>

#include <cmath>
#include <limits>
#include <vector>

namespace moelab {
namespace {

// exp(x) for x <= 0 (inputs here are x - max): Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2,
// a degree-7 polynomial for e^r (the Cephes expf coefficients, ~1 ulp), then scaling by 2^n.
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

// The row's maximum, or NaN when the row holds a NaN (maxps alone would drop it).
__attribute__((target("avx2,fma"))) float rowMaxAvx2(const float* x, int64_t n) {
  __m256 m = _mm256_set1_ps(-std::numeric_limits<float>::infinity()), nan = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 v = _mm256_loadu_ps(x + j);
    m = _mm256_max_ps(m, v);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  }
  if (_mm256_movemask_ps(nan) != 0) return std::numeric_limits<float>::quiet_NaN();
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, m);
  float best = lanes[0];
  for (int k = 1; k < 8; ++k) best = std::max(best, lanes[k]);
  for (; j < n; ++j) {
    if (std::isnan(x[j])) return x[j];
    best = std::max(best, x[j]);
  }
  return best;
}

// Sum of exp(x - shift); four accumulators for throughput and a smaller rounding error.
__attribute__((target("avx2,fma"))) float rowSumExpAvx2(const float* x, int64_t n, float shift) {
  const __m256 s = _mm256_set1_ps(shift);
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    a0 = _mm256_add_ps(a0, expNonPositive(_mm256_sub_ps(_mm256_loadu_ps(x + j), s)));
    a1 = _mm256_add_ps(a1, expNonPositive(_mm256_sub_ps(_mm256_loadu_ps(x + j + 8), s)));
    a2 = _mm256_add_ps(a2, expNonPositive(_mm256_sub_ps(_mm256_loadu_ps(x + j + 16), s)));
    a3 = _mm256_add_ps(a3, expNonPositive(_mm256_sub_ps(_mm256_loadu_ps(x + j + 24), s)));
  }
  for (; j + 8 <= n; j += 8) a0 = _mm256_add_ps(a0, expNonPositive(_mm256_sub_ps(_mm256_loadu_ps(x + j), s)));
  float total = horizontalSum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; j < n; ++j) total += std::exp(x[j] - shift);
  return total;
}

// g = exp(x - lse) * scale
__attribute__((target("avx2,fma"))) void rowSoftmaxAvx2(const float* x, float* g, int64_t n, float lse,
                                                        float scale) {
  const __m256 l = _mm256_set1_ps(lse), sc = _mm256_set1_ps(scale);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    _mm256_storeu_ps(g + j, _mm256_mul_ps(expNonPositive(_mm256_sub_ps(_mm256_loadu_ps(x + j), l)), sc));
  for (; j < n; ++j) g[j] = std::exp(x[j] - lse) * scale;
}

float rowMaxScalar(const float* x, int64_t n) {
  float best = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < n; ++j) {
    if (std::isnan(x[j])) return x[j];
    best = std::max(best, x[j]);
  }
  return best;
}

float rowSumExpScalar(const float* x, int64_t n, float shift) {
  float total = 0;
  for (int64_t j = 0; j < n; ++j) total += std::exp(x[j] - shift);
  return total;
}

void rowSoftmaxScalar(const float* x, float* g, int64_t n, float lse, float scale) {
  for (int64_t j = 0; j < n; ++j) g[j] = std::exp(x[j] - lse) * scale;
}

const bool kHaveAvx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");

struct FusedCrossEntropyFn : torch::autograd::Function<FusedCrossEntropyFn> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& logits,
                               const torch::Tensor& targets, int64_t ignoreIndex) {
    const auto x = logits.contiguous();
    const auto t = targets.to(torch::kLong).contiguous();
    const int64_t N = x.size(0), V = x.size(1);
    const float* xp = x.data_ptr<float>();
    const int64_t* tp = t.data_ptr<int64_t>();
    int64_t counted = 0;
    for (int64_t i = 0; i < N; ++i) {
      if (tp[i] == ignoreIndex) continue;
      TORCH_CHECK(tp[i] >= 0 && tp[i] < V, "Target ", tp[i], " is out of bounds.");
      ++counted;
    }
    const bool wantGrad = logits.requires_grad();
    torch::Tensor grad = wantGrad ? torch::empty_like(x) : torch::Tensor();
    float* gp = wantGrad ? grad.data_ptr<float>() : nullptr;
    const float scale = counted > 0 ? 1.0f / float(counted) : 0.0f;
    std::vector<double> rowLoss(size_t(N), 0.0);
    at::parallel_for(0, N, 4, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const float* row = xp + i * V;
        float* grow = gp ? gp + i * V : nullptr;
        if (tp[i] == ignoreIndex) {
          if (grow) std::fill(grow, grow + V, 0.0f);
          continue;
        }
        const float m = kHaveAvx2 ? rowMaxAvx2(row, V) : rowMaxScalar(row, V);
        if (!std::isfinite(m)) {  // a NaN or +inf logit: NaN loss and gradient, as LibTorch gives
          rowLoss[size_t(i)] = std::numeric_limits<double>::quiet_NaN();
          if (grow) std::fill(grow, grow + V, std::numeric_limits<float>::quiet_NaN());
          continue;
        }
        const float sum = kHaveAvx2 ? rowSumExpAvx2(row, V, m) : rowSumExpScalar(row, V, m);
        const float lse = m + std::log(sum);
        rowLoss[size_t(i)] = double(lse) - double(row[tp[i]]);
        if (grow) {
          if (kHaveAvx2)
            rowSoftmaxAvx2(row, grow, V, lse, scale);
          else
            rowSoftmaxScalar(row, grow, V, lse, scale);
          grow[tp[i]] -= scale;
        }
      }
    });
    double total = 0;
    for (double l : rowLoss) total += l;
    // No counted rows: NaN, as LibTorch's mean over zero targets.
    const double mean = counted > 0 ? total / double(counted) : std::numeric_limits<double>::quiet_NaN();
    ctx->save_for_backward({grad});
    return torch::full({}, mean, x.options().requires_grad(false));
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto grad = ctx->get_saved_variables()[0];
    const auto& upstream = grads[0];
    // d(total loss)/d(LM loss) is 1 unless the loss was scaled: skip a pass over [N, V] then.
    if (!(upstream.numel() == 1 && upstream.item<float>() == 1.0f)) grad = grad * upstream;
    return {grad, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor fusedCrossEntropy(const torch::Tensor& logits, const torch::Tensor& targets,
                                int64_t ignoreIndex) {
  const bool fusable = logits.device().is_cpu() && logits.scalar_type() == torch::kFloat &&
                       logits.dim() == 2 && targets.dim() == 1 && targets.size(0) == logits.size(0) &&
                       logits.size(1) > 0;
  if (!fusable)
    return torch::nn::functional::cross_entropy(
        logits, targets, torch::nn::functional::CrossEntropyFuncOptions().ignore_index(ignoreIndex));
  return FusedCrossEntropyFn::apply(logits, targets, ignoreIndex);
}

}  // namespace moelab
