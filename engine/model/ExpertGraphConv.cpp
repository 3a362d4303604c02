#include "model/ExpertGraphConv.h"

#include <ATen/record_function.h>

#include "model/GeluDropout.h"

namespace moelab {
namespace {

// m[n] = W[n] h[n] for every token n: N tiny E x E by E x D products. torch::bmm runs them one
// BLAS call at a time with per-matrix dispatch (select, as_strided, resolve_conj: ~0.25 s of a
// seed-config step); these loops stream each token's rows once, vectorised over D, tokens in parallel.
struct ExpertMessages : torch::autograd::Function<ExpertMessages> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& weights,
                               const torch::Tensor& h) {
    RECORD_FUNCTION("moelab::expertMessages", std::vector<c10::IValue>{});
    auto w = weights.contiguous(), x = h.contiguous();
    ctx->save_for_backward({w, x});
    const int64_t N = x.size(0), E = x.size(1), D = x.size(2);
    auto out = torch::zeros_like(x);
    const float *wp = w.data_ptr<float>(), *xp = x.data_ptr<float>();
    float* op = out.data_ptr<float>();
    at::parallel_for(0, N, 16, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n)
        for (int64_t i = 0; i < E; ++i) {
          float* o = op + (n * E + i) * D;
          for (int64_t j = 0; j < E; ++j) {
            const float a = wp[(n * E + i) * E + j];
            const float* v = xp + (n * E + j) * D;
            for (int64_t d = 0; d < D; ++d) o[d] += a * v[d];
          }
        }
    });
    return out;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &w = saved[0], &x = saved[1];
    auto g = grads[0].contiguous();
    const int64_t N = x.size(0), E = x.size(1), D = x.size(2);
    auto gw = torch::empty_like(w), gx = torch::zeros_like(x);
    const float *wp = w.data_ptr<float>(), *xp = x.data_ptr<float>(), *gp = g.data_ptr<float>();
    float *gwp = gw.data_ptr<float>(), *gxp = gx.data_ptr<float>();
    at::parallel_for(0, N, 16, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n)
        for (int64_t i = 0; i < E; ++i) {
          const float* gi = gp + (n * E + i) * D;
          for (int64_t j = 0; j < E; ++j) {
            const float* v = xp + (n * E + j) * D;
            float dot = 0;  // dW[n]_ij = g_i . h_j
            for (int64_t d = 0; d < D; ++d) dot += gi[d] * v[d];
            gwp[(n * E + i) * E + j] = dot;
            const float a = wp[(n * E + i) * E + j];  // dh[n]_j += W_ij g_i
            float* gj = gxp + (n * E + j) * D;
            for (int64_t d = 0; d < D; ++d) gj[d] += a * gi[d];
          }
        }
    });
    return {gw, gx};
  }
};

torch::Tensor expertMessages(const torch::Tensor& weights, const torch::Tensor& h) {
  if (h.scalar_type() != torch::kFloat || weights.scalar_type() != torch::kFloat || !h.device().is_cpu())
    return torch::bmm(weights, h);  // other dtypes and devices: their own batched GEMM is the fast path
  return ExpertMessages::apply(weights, h);
}

}  // namespace

ExpertGraphConvImpl::ExpertGraphConvImpl(int64_t e, int64_t d) {
  adjacencyLogits = register_parameter("adjacency_logits", torch::randn({e, e}));
  edge = register_module("edge", torch::nn::Linear(2 * d, 1));
  neighbour = register_module("neighbour", torch::nn::Linear(d, d));
  self = register_module("self", torch::nn::Linear(d, d));
}

torch::Tensor ExpertGraphConvImpl::adjacency() const {
  return torch::sigmoid(adjacencyLogits);
}

torch::Tensor ExpertGraphConvImpl::forward(const torch::Tensor& h) {
  const int64_t D = h.size(2), E = h.size(1);
  // Linear(2D -> 1) on [h_i; h_j] = w_a . h_i + w_b . h_j + b.
  // Both halves in one GEMM ([N*E, D] x [D, 2]) rather than two matrix-vector passes over h.
  auto both = torch::matmul(h, edge->weight.view({2, D}).t());                    // [N, E, 2]
  auto si = both.select(2, 0), sj = both.select(2, 1);                            // [N, E]
  auto content = torch::sigmoid(si.unsqueeze(2) + sj.unsqueeze(1) + edge->bias);  // [N, E, E]
  auto offDiagonal = 1.0 - torch::eye(E, h.options());
  auto weights = content * (adjacency() * offDiagonal).unsqueeze(0);
  if (recording) {
    torch::NoGradGuard noGrad;
    auto w = rows.defined() ? weights.detach().index_select(0, rows) : weights.detach();
    lastEffective = w.mean(0);
    lastSpread = w.std(0, /*unbiased=*/false);
  }
  auto messages = expertMessages(weights, h);  // [N, E, D]
  return geluDropout(neighbour(messages) + self(h), 0.0, false);
}

GnnCouplerImpl::GnnCouplerImpl(int64_t e, int64_t d, int64_t layers) {
  gnn = register_module("gnn", torch::nn::ModuleList());
  for (int64_t i = 0; i < layers; ++i) gnn->push_back(ExpertGraphConv(e, d));
  combine = register_module("combine", torch::nn::Linear(d, d));
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
}

torch::Tensor GnnCouplerImpl::forward(const torch::Tensor& expertOutputs) {
  auto h = expertOutputs;
  for (const auto& layer : *gnn) h = layer->as<ExpertGraphConv>()->forward(h) + h;
  if (gnn->size() > 0 && gnn[0]->as<ExpertGraphConv>()->recording) {
    torch::NoGradGuard noGrad;
    auto& rows = gnn[0]->as<ExpertGraphConv>()->rows;
    auto norms = (rows.defined() ? h.detach().index_select(0, rows) : h.detach()).norm(2, -1).mean(0);
    lastShare = norms / norms.sum().clamp_min(1e-30);
  }
  auto combined = geluDropout(combine(h.mean(1)), 0.0, false);
  // Under bf16 autocast the Linear's output is bf16; LayerNorm's CPU kernel needs its weight's dtype.
  return norm(combined.to(norm->weight.scalar_type()));
}

void GnnCouplerImpl::record(bool on, const torch::Tensor& rows) {
  for (const auto& layer : *gnn) {
    auto* conv = layer->as<ExpertGraphConv>();
    conv->recording = on;
    conv->rows = rows;
  }
}

std::vector<torch::Tensor> GnnCouplerImpl::adjacencies() const {
  std::vector<torch::Tensor> out;
  for (const auto& layer : *gnn) out.push_back(layer->as<ExpertGraphConv>()->adjacency().detach());
  return out;
}

}  // namespace moelab
