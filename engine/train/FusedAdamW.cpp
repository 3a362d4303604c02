#include "train/FusedAdamW.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <immintrin.h>

#include <cmath>
#include <string>

namespace moelab {
namespace {

struct AdamWScalars {
  float decay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, sqrtBias2, eps, negStepSize;
};

// The per-element form of torch::optim::AdamW::step (LibTorch 1.13), operation by operation:
// p.mul_(1 - lr*wd); m.mul_(b1).add_(g, 1-b1); v.mul_(b2).addcmul_(g, g, 1-b2);
// denom = sqrt(v) / sqrt(bc2) + eps; p.addcdiv_(m, denom, -lr/bc1). g == nullptr: a zero gradient.
void adamwUpdateScalar(float* p, const float* g, float* m, float* v, int64_t n, const AdamWScalars& s) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g ? g[i] : 0.0f;
    const float pi = p[i] * s.decay;
    const float mi = m[i] * s.beta1 + s.oneMinusBeta1 * gi;
    const float vi = v[i] * s.beta2 + s.oneMinusBeta2 * gi * gi;
    const float denom = std::sqrt(vi) / s.sqrtBias2 + s.eps;
    p[i] = pi + s.negStepSize * mi / denom;
    m[i] = mi;
    v[i] = vi;
  }
}

// The same, eight lanes at a time (separate multiplies and adds, as the scalar form rounds).
__attribute__((target("avx2"))) void adamwUpdateAvx2(float* p, const float* g, float* m, float* v, int64_t n,
                                                     const AdamWScalars& s) {
  const __m256 decay = _mm256_set1_ps(s.decay), b1 = _mm256_set1_ps(s.beta1),
               omb1 = _mm256_set1_ps(s.oneMinusBeta1), b2 = _mm256_set1_ps(s.beta2),
               omb2 = _mm256_set1_ps(s.oneMinusBeta2), sqrtBias2 = _mm256_set1_ps(s.sqrtBias2),
               eps = _mm256_set1_ps(s.eps), negStep = _mm256_set1_ps(s.negStepSize);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 gi = g ? _mm256_loadu_ps(g + i) : _mm256_setzero_ps();
    const __m256 pi = _mm256_mul_ps(_mm256_loadu_ps(p + i), decay);
    const __m256 mi = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(m + i), b1), _mm256_mul_ps(omb1, gi));
    const __m256 vi =
        _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(v + i), b2), _mm256_mul_ps(_mm256_mul_ps(omb2, gi), gi));
    const __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), sqrtBias2), eps);
    _mm256_storeu_ps(p + i, _mm256_add_ps(pi, _mm256_div_ps(_mm256_mul_ps(negStep, mi), denom)));
    _mm256_storeu_ps(m + i, mi);
    _mm256_storeu_ps(v + i, vi);
  }
  adamwUpdateScalar(p + i, g ? g + i : nullptr, m + i, v + i, n - i, s);
}

const bool kHaveAvx2 = __builtin_cpu_supports("avx2");

bool fusable(const torch::Tensor& t) {
  return t.defined() && t.device().is_cpu() && t.scalar_type() == torch::kFloat && t.is_contiguous() &&
         !t.is_sparse();
}

}  // namespace

bool FusedAdamW::fusedPathApplies() const {
  for (const auto& group : param_groups_) {
    if (static_cast<const torch::optim::AdamWOptions&>(group.options()).amsgrad()) return false;
    for (const auto& p : group.params()) {
      if (!fusable(p) || (p.grad().defined() && !fusable(p.grad()))) return false;
      auto found = state_.find(c10::guts::to_string(p.unsafeGetTensorImpl()));
      if (found == state_.end()) continue;
      const auto& state = static_cast<const torch::optim::AdamWParamState&>(*found->second);
      if (!fusable(state.exp_avg()) || !fusable(state.exp_avg_sq())) return false;
    }
  }
  return true;
}

torch::Tensor FusedAdamW::step(LossClosure closure) {
  if (!fusedPathApplies()) {
    // e.g. CUDA tensors or amsgrad: LibTorch's own step, with dropped gradients of trained
    // parameters restored as zeros so the update is the same.
    torch::NoGradGuard noGrad;
    for (auto& group : param_groups_)
      for (auto& p : group.params())
        if (!p.grad().defined() && state_.count(c10::guts::to_string(p.unsafeGetTensorImpl())))
          p.mutable_grad() = torch::zeros_like(p);
    return torch::optim::AdamW::step(std::move(closure));
  }
  RECORD_FUNCTION("moelab::FusedAdamW::step", std::vector<c10::IValue>{});
  torch::NoGradGuard noGrad;
  torch::Tensor loss;
  if (closure) {
    at::AutoGradMode enable(true);
    loss = closure();
  }
  for (auto& group : param_groups_) {
    auto& options = static_cast<torch::optim::AdamWOptions&>(group.options());
    for (auto& p : group.params()) {
      const std::string key = c10::guts::to_string(p.unsafeGetTensorImpl());
      auto found = state_.find(key);
      const torch::Tensor grad = p.grad();
      if (!grad.defined() && found == state_.end()) continue;  // never trained: as the base class
      if (found == state_.end()) {
        auto state = std::make_unique<torch::optim::AdamWParamState>();
        state->step(0);
        state->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        state->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        found = state_.emplace(key, std::move(state)).first;
      }
      auto& state = static_cast<torch::optim::AdamWParamState&>(*found->second);
      state.step(state.step() + 1);
      const double lr = options.lr(), wd = options.weight_decay();
      const double beta1 = std::get<0>(options.betas()), beta2 = std::get<1>(options.betas());
      const double bias1 = 1 - std::pow(beta1, double(state.step()));
      const double bias2 = 1 - std::pow(beta2, double(state.step()));
      AdamWScalars s;
      s.decay = float(wd != 0 ? 1 - lr * wd : 1.0);
      s.beta1 = float(beta1);
      s.oneMinusBeta1 = float(1 - beta1);
      s.beta2 = float(beta2);
      s.oneMinusBeta2 = float(1 - beta2);
      s.sqrtBias2 = float(std::sqrt(bias2));
      s.eps = float(options.eps());
      s.negStepSize = float(-(lr / bias1));
      float* pp = p.data_ptr<float>();
      const float* gp = grad.defined() ? grad.data_ptr<float>() : nullptr;
      float* mp = state.exp_avg().data_ptr<float>();
      float* vp = state.exp_avg_sq().data_ptr<float>();
      at::parallel_for(0, p.numel(), 1 << 15, [&](int64_t begin, int64_t end) {
        const float* gb = gp ? gp + begin : nullptr;
        if (kHaveAvx2)
          adamwUpdateAvx2(pp + begin, gb, mp + begin, vp + begin, end - begin, s);
        else
          adamwUpdateScalar(pp + begin, gb, mp + begin, vp + begin, end - begin, s);
      });
    }
  }
  return loss;
}

void dropGradients(torch::optim::Optimizer& optimizer) {
  if (dynamic_cast<FusedAdamW*>(&optimizer) == nullptr) {
    optimizer.zero_grad();  // other optimizers skip undefined gradients: keep them zero-filled
    return;
  }
  for (auto& group : optimizer.param_groups())
    for (auto& p : group.params())
      if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
}

}  // namespace moelab
