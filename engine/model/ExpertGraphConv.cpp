#include "model/ExpertGraphConv.h"

namespace moelab {

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
  auto w = edge->weight.view({2, D});
  auto si = torch::matmul(h, w[0]);  // [N, E]
  auto sj = torch::matmul(h, w[1]);
  auto content = torch::sigmoid(si.unsqueeze(2) + sj.unsqueeze(1) + edge->bias);  // [N, E, E]
  auto offDiagonal = 1.0 - torch::eye(E, h.options());
  auto weights = content * (adjacency() * offDiagonal).unsqueeze(0);
  if (recording) {
    torch::NoGradGuard noGrad;
    auto w = rows.defined() ? weights.detach().index_select(0, rows) : weights.detach();
    lastEffective = w.mean(0);
    lastSpread = w.std(0, /*unbiased=*/false);
  }
  auto messages = torch::bmm(weights, h);  // [N, E, D]
  return torch::gelu(neighbour(messages) + self(h));
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
  return norm(torch::gelu(combine(h.mean(1))));
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
