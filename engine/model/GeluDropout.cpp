#include "model/GeluDropout.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <immintrin.h>

#include <algorithm>

#include "model/FastDropout.h"
#include "model/VectorMath.h"

namespace moelab {
namespace {

// Grain of the element loops (DropoutMask::applyTo starts anywhere inside a quad), and the block
// that GELU and the mask pass over while it is in L1.
constexpr int64_t kGrain = 1 << 14;
constexpr int64_t kBlock = 2048;

// DropoutMask::applyTo, eight elements (two hash quads) per step: the four 16-bit slices of each
// hash widened to 32-bit lanes and compared with the threshold.
__attribute__((target("avx2"))) void maskAvx2(const DropoutMask& m, const float* x, float* out, int64_t first,
                                              int64_t n) {
  const int64_t head = std::min(n, (4 - (first & 3)) & 3);
  m.applyTo(x, out, first, head);
  const __m256i below = _mm256_set1_epi32(int32_t(m.threshold) - 1);
  const __m256 scale = _mm256_set1_ps(m.scale);
  int64_t j = head;
  for (; j + 8 <= n; j += 8) {
    const int64_t quad = (first + j) >> 2;
    const __m128i hashes = _mm_set_epi64x(int64_t(m.hashOfQuad(quad + 1)), int64_t(m.hashOfQuad(quad)));
    const __m256i keep = _mm256_cmpgt_epi32(_mm256_cvtepu16_epi32(hashes), below);
    _mm256_storeu_ps(out + j,
                     _mm256_and_ps(_mm256_mul_ps(_mm256_loadu_ps(x + j), scale), _mm256_castsi256_ps(keep)));
  }
  m.applyTo(x + j, out + j, first + j, n - j);
}

const bool kAvx2 = vec::hasAvx2Fma();

void applyMask(const DropoutMask& m, const float* x, float* out, int64_t first, int64_t n) {
  if (kAvx2)
    maskAvx2(m, x, out, first, n);
  else
    m.applyTo(x, out, first, n);
}

DropoutMask maskFromSaved(torch::autograd::AutogradContext* ctx) {
  DropoutMask m;
  m.key = uint64_t(ctx->saved_data["key"].toInt());
  m.threshold = uint32_t(ctx->saved_data["threshold"].toInt());
  m.scale = float(ctx->saved_data["scale"].toDouble());
  return m;
}

struct GeluDropoutFn : torch::autograd::Function<GeluDropoutFn> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, double p,
                               bool training) {
    RECORD_FUNCTION("moelab::geluDropout", std::vector<c10::IValue>{});
    const bool drop = training && p > 0.0;
    const DropoutMask mask = drop ? DropoutMask::draw(p) : DropoutMask{};
    auto out = torch::empty_like(x, x.options().requires_grad(false));
    const float* xp = x.data_ptr<float>();
    float* op = out.data_ptr<float>();
    at::parallel_for(0, x.numel(), kGrain, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; b += kBlock) {
        const int64_t n = std::min(kBlock, end - b);
        vec::geluInto(xp + b, op + b, n);
        if (drop) applyMask(mask, op + b, op + b, b, n);
      }
    });
    ctx->save_for_backward({x});
    ctx->saved_data["drop"] = drop;
    ctx->saved_data["key"] = int64_t(mask.key);
    ctx->saved_data["threshold"] = int64_t(mask.threshold);
    ctx->saved_data["scale"] = double(mask.scale);
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto x = ctx->get_saved_variables()[0];
    const auto dy = grads[0].contiguous();
    const bool drop = ctx->saved_data["drop"].toBool();
    const DropoutMask mask = maskFromSaved(ctx);
    auto dx = torch::empty_like(x);
    const float *xp = x.data_ptr<float>(), *gp = dy.data_ptr<float>();
    float* dp = dx.data_ptr<float>();
    at::parallel_for(0, x.numel(), kGrain, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; b += kBlock) {
        const int64_t n = std::min(kBlock, end - b);
        if (drop) {  // dx = m dy GELU'(x): mask dy first, into dx
          applyMask(mask, gp + b, dp + b, b, n);
          vec::geluGradInto(xp + b, dp + b, dp + b, n);
        } else {
          vec::geluGradInto(xp + b, gp + b, dp + b, n);
        }
      }
    });
    return {dx, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor geluDropout(const torch::Tensor& x, double p, bool training) {
  if (!x.is_cpu() || x.scalar_type() != torch::kFloat || p >= 1.0)
    return fastDropout(torch::gelu(x), p, training);
  return GeluDropoutFn::apply(x.contiguous(), p, training);
}

}  // namespace moelab
