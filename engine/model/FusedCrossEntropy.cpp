#include "model/FusedCrossEntropy.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <limits>
#include <vector>

#include "model/VectorMath.h"

namespace moelab {
namespace {

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
        const float m = vec::maxOf(row, V);
        if (!std::isfinite(m)) {  // a NaN or +inf logit: NaN loss and gradient, as LibTorch gives
          rowLoss[size_t(i)] = std::numeric_limits<double>::quiet_NaN();
          if (grow) std::fill(grow, grow + V, std::numeric_limits<float>::quiet_NaN());
          continue;
        }
        const float sum = vec::sumExp(row, V, m, 1.0f);
        const float lse = m + std::log(sum);
        rowLoss[size_t(i)] = double(lse) - double(row[tp[i]]);
        if (grow) {
          vec::expInto(row, grow, V, lse, 1.0f, scale);
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
