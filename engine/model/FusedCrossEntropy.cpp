#include "model/FusedCrossEntropy.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <cmath>
#include <limits>
#include <vector>

#include "model/VectorMath.h"

namespace moelab {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Counts the rows whose target is not ignoreIndex and checks the others are in [0, V).
int64_t countTargets(const int64_t* t, int64_t n, int64_t V, int64_t ignoreIndex) {
  int64_t counted = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (t[i] == ignoreIndex) continue;
    TORCH_CHECK(t[i] >= 0 && t[i] < V, "Target ", t[i], " is out of bounds.");
    ++counted;
  }
  return counted;
}

// One row's loss log-sum-exp(x) - x[target] over x[0, V); with g, the row's gradient (softmax -
// onehot) * scale into g[0, V), which may alias x. A NaN or +inf logit gives a NaN loss and
// gradient, as LibTorch gives.
double rowCrossEntropy(const float* x, float* g, int64_t V, int64_t target, float scale) {
  const float m = vec::maxOf(x, V);
  if (!std::isfinite(m)) {
    if (g) std::fill(g, g + V, float(kNaN));
    return kNaN;
  }
  const float lse = m + std::log(vec::sumExp(x, V, m, 1.0f));
  const double loss = double(lse) - double(x[target]);  // read before g overwrites it
  if (g) {
    vec::expInto(x, g, V, lse, 1.0f, scale);
    g[target] -= scale;
  }
  return loss;
}

double meanOf(const std::vector<double>& rowLoss, int64_t counted) {
  double total = 0;
  for (double l : rowLoss) total += l;
  return counted > 0 ? total / double(counted) : kNaN;  // no counted rows: NaN, as LibTorch's mean
}

// d(total loss)/d(LM loss) is 1 unless the loss was scaled: skip a pass over [N, V] then.
bool unitUpstream(const torch::Tensor& upstream) {
  return upstream.numel() == 1 && upstream.item<float>() == 1.0f;
}

struct FusedCrossEntropyFn : torch::autograd::Function<FusedCrossEntropyFn> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& logits,
                               const torch::Tensor& targets, int64_t ignoreIndex) {
    RECORD_FUNCTION("moelab::fusedCrossEntropy", std::vector<c10::IValue>{});
    const auto x = logits.contiguous();
    const auto t = targets.to(torch::kLong).contiguous();
    const int64_t N = x.size(0), V = x.size(1);
    const float* xp = x.data_ptr<float>();
    const int64_t* tp = t.data_ptr<int64_t>();
    const int64_t counted = countTargets(tp, N, V, ignoreIndex);
    const bool wantGrad = logits.requires_grad();
    torch::Tensor grad = wantGrad ? torch::empty_like(x) : torch::Tensor();
    float* gp = wantGrad ? grad.data_ptr<float>() : nullptr;
    const float scale = counted > 0 ? 1.0f / float(counted) : 0.0f;
    std::vector<double> rowLoss(size_t(N), 0.0);
    at::parallel_for(0, N, 4, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        float* grow = gp ? gp + i * V : nullptr;
        if (tp[i] == ignoreIndex) {
          if (grow) std::fill(grow, grow + V, 0.0f);
          continue;
        }
        rowLoss[size_t(i)] = rowCrossEntropy(xp + i * V, grow, V, tp[i], scale);
      }
    });
    ctx->save_for_backward({grad});
    return torch::full({}, meanOf(rowLoss, counted), x.options().requires_grad(false));
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto grad = ctx->get_saved_variables()[0];
    if (!unitUpstream(grads[0])) grad = grad * grads[0];
    return {grad, torch::Tensor(), torch::Tensor()};
  }
};

struct FusedHeadCrossEntropyFn : torch::autograd::Function<FusedHeadCrossEntropyFn> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& hidden,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               const torch::Tensor& targets, int64_t vocab, int64_t ignoreIndex) {
    RECORD_FUNCTION("moelab::fusedHeadCrossEntropy", std::vector<c10::IValue>{});
    // The logits buffer is ours alone: each row becomes its own gradient in place.
    auto logits = torch::mm(hidden, weight.t());  // [N, Vp]
    const auto t = targets.to(torch::kLong).contiguous();
    const int64_t N = logits.size(0), Vp = logits.size(1);
    const int64_t* tp = t.data_ptr<int64_t>();
    const int64_t counted = countTargets(tp, N, vocab, ignoreIndex);
    const bool hasBias = bias.numel() > 0;
    const bool wantGrad =
        hidden.requires_grad() || weight.requires_grad() || (hasBias && bias.requires_grad());
    const bool biasGrad = wantGrad && hasBias && bias.requires_grad();
    const float scale = counted > 0 ? 1.0f / float(counted) : 0.0f;
    float* lp = logits.data_ptr<float>();
    const auto b = hasBias ? bias.contiguous() : torch::Tensor();
    const float* bp = b.defined() ? b.data_ptr<float>() : nullptr;
    // The bias gradient (column sums of the gradient) gathered per thread while each row is in cache.
    std::vector<std::vector<float>> columnSums(size_t(biasGrad ? at::get_num_threads() : 0));
    std::vector<double> rowLoss(size_t(N), 0.0);
    at::parallel_for(0, N, 4, [&](int64_t begin, int64_t end) {
      std::vector<float>* sums = nullptr;
      if (biasGrad) {
        sums = &columnSums[size_t(at::get_thread_num())];
        if (sums->empty()) sums->assign(size_t(Vp), 0.0f);
      }
      for (int64_t i = begin; i < end; ++i) {
        float* row = lp + i * Vp;
        if (bp) vec::addInto(row, bp, Vp);
        if (tp[i] == ignoreIndex) {
          if (wantGrad) std::fill(row, row + Vp, 0.0f);
          continue;
        }
        rowLoss[size_t(i)] = rowCrossEntropy(row, wantGrad ? row : nullptr, vocab, tp[i], scale);
        if (!wantGrad) continue;
        std::fill(row + vocab, row + Vp, 0.0f);  // padded vocabulary rows never reach the loss
        if (sums) vec::addInto(sums->data(), row, Vp);
      }
    });
    torch::Tensor dBias;
    if (biasGrad) {
      dBias = torch::zeros({Vp}, logits.options());
      for (const auto& s : columnSums)
        if (!s.empty()) vec::addInto(dBias.data_ptr<float>(), s.data(), Vp);
    }
    ctx->save_for_backward({hidden, weight, wantGrad ? logits : torch::Tensor(), dBias});
    return torch::full({}, meanOf(rowLoss, counted), logits.options().requires_grad(false));
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &hidden = saved[0], &weight = saved[1];
    const auto &g = saved[2], &dBias = saved[3];
    // A scaled loss (data parallel weights each rank's) scales the small products, not [N, V].
    const bool unit = unitUpstream(grads[0]);
    const auto scaled = [&](torch::Tensor t) { return unit || !t.defined() ? t : t.mul_(grads[0]); };
    return {ctx->needs_input_grad(0) ? scaled(torch::mm(g, weight)) : torch::Tensor(),
            ctx->needs_input_grad(1) ? scaled(torch::mm(g.t(), hidden)) : torch::Tensor(),
            dBias.defined() ? scaled(dBias.clone()) : dBias,
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor()};
  }
};

bool cpuFloat(const torch::Tensor& t) {
  return t.device().is_cpu() && t.scalar_type() == torch::kFloat;
}

}  // namespace

torch::Tensor fusedCrossEntropy(const torch::Tensor& logits, const torch::Tensor& targets,
                                int64_t ignoreIndex) {
  const bool fusable = cpuFloat(logits) && logits.dim() == 2 && targets.dim() == 1 &&
                       targets.size(0) == logits.size(0) && logits.size(1) > 0;
  if (!fusable)
    return torch::nn::functional::cross_entropy(
        logits, targets, torch::nn::functional::CrossEntropyFuncOptions().ignore_index(ignoreIndex));
  return FusedCrossEntropyFn::apply(logits, targets, ignoreIndex);
}

bool fusedHeadCrossEntropySupported(const torch::Tensor& hidden, const torch::Tensor& weight,
                                    const torch::Tensor& bias) {
  return cpuFloat(hidden) && cpuFloat(weight) && (!bias.defined() || cpuFloat(bias)) && hidden.dim() == 2 &&
         weight.dim() == 2 && hidden.size(1) == weight.size(1);
}

torch::Tensor fusedHeadCrossEntropy(const torch::Tensor& hidden, const torch::Tensor& weight,
                                    const torch::Tensor& bias, const torch::Tensor& targets, int64_t vocab,
                                    int64_t ignoreIndex) {
  TORCH_CHECK(fusedHeadCrossEntropySupported(hidden, weight, bias) && vocab > 0 && vocab <= weight.size(0) &&
                  targets.dim() == 1 && targets.size(0) == hidden.size(0),
              "fusedHeadCrossEntropy: unsupported tensors ", hidden.sizes(), " ", weight.sizes());
  // A custom function's tensor inputs must be defined: no bias is an empty one.
  return FusedHeadCrossEntropyFn::apply(hidden, weight, bias.defined() ? bias : hidden.new_empty({0}),
                                        targets, vocab, ignoreIndex);
}

}  // namespace moelab
