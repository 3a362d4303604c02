#include "model/CausalSoftmax.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "model/VectorMath.h"

namespace moelab {
namespace {

struct CausalSoftmaxFn : torch::autograd::Function<CausalSoftmaxFn> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& scores,
                               double scale) {
    RECORD_FUNCTION("moelab::causalSoftmax", std::vector<c10::IValue>{});
    const auto x = scores.contiguous();
    const int64_t T = x.size(-1), rows = x.numel() / T;
    auto out = torch::empty_like(x);
    const float* xp = x.data_ptr<float>();
    float* op = out.data_ptr<float>();
    const float c = float(scale);
    at::parallel_for(0, rows, 64, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const float* row = xp + r * T;
        float* o = op + r * T;
        const int64_t visible = r % T + 1;
        std::fill(o + visible, o + T, 0.0f);
        const float m = vec::maxOf(row, visible);
        if (!std::isfinite(m)) {  // NaN or inf scores: NaN probabilities, as softmax gives
          std::fill(o, o + visible, std::numeric_limits<float>::quiet_NaN());
          continue;
        }
        const float sum = vec::sumExp(row, visible, m, c);
        vec::expInto(row, o, visible, m, c, 1.0f / sum);
      }
    });
    ctx->save_for_backward({out});
    ctx->saved_data["scale"] = scale;
    return out;
  }

  // d scores_j = scale * p_j * (g_j - sum_k g_k p_k) over the visible part; 0 beyond it.
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto p = ctx->get_saved_variables()[0];
    const auto g = grads[0].contiguous();
    const float c = float(ctx->saved_data["scale"].toDouble());
    const int64_t T = p.size(-1), rows = p.numel() / T;
    auto dx = torch::empty_like(p);
    const float *pp = p.data_ptr<float>(), *gp = g.data_ptr<float>();
    float* dp = dx.data_ptr<float>();
    at::parallel_for(0, rows, 64, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const float *pr = pp + r * T, *gr = gp + r * T;
        float* d = dp + r * T;
        const int64_t visible = r % T + 1;
        float dot = 0;
        for (int64_t j = 0; j < visible; ++j) dot += gr[j] * pr[j];
        for (int64_t j = 0; j < visible; ++j) d[j] = c * pr[j] * (gr[j] - dot);
        std::fill(d + visible, d + T, 0.0f);
      }
    });
    return {dx, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor causalSoftmax(const torch::Tensor& scores, double scale) {
  TORCH_CHECK(scores.dim() >= 2 && scores.size(-2) % scores.size(-1) == 0, "causalSoftmax: rows ",
              scores.sizes(), " are not whole blocks of query positions");
  if (!scores.device().is_cpu() || scores.scalar_type() != torch::kFloat) {
    const int64_t T = scores.size(-1), R = scores.size(-2);
    auto position = torch::arange(R, torch::dtype(torch::kLong).device(scores.device())).remainder(T);
    auto key = torch::arange(T, torch::dtype(torch::kLong).device(scores.device()));
    auto future = key.unsqueeze(0) > position.unsqueeze(1);  // [R, T]
    return torch::softmax((scores * scale).masked_fill(future, -INFINITY), -1);
  }
  return CausalSoftmaxFn::apply(scores, scale);
}

}  // namespace moelab
