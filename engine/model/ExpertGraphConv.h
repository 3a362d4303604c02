#pragma once
#include <torch/torch.h>

namespace moelab {

// One graph-convolution layer over the E expert states of every token (seed phase 1):
//   A = sigmoid(adjacency_logits)            (E x E, learnable, init N(0, 1))
//   c_ij = sigmoid(w_a . h_i + w_b . h_j + b) (the seed's Linear(2D -> 1) on [h_i; h_j])
//   m_i = sum_{j != i} A_ij c_ij h_j
//   h_i' = GELU(W_n m_i + b_n + W_s h_i + b_s)
// Vectorised over tokens and expert pairs: [N,E] scores, an [N,E,E] weight tensor, one bmm.
struct ExpertGraphConvImpl : torch::nn::Module {
  ExpertGraphConvImpl(int64_t numExperts, int64_t dim);

  torch::Tensor forward(const torch::Tensor& h);  // [N, E, D] -> [N, E, D] (without the residual)
  torch::Tensor adjacency() const;                // sigmoid(adjacency_logits), [E, E]

  torch::Tensor adjacencyLogits;
  torch::nn::Linear edge{nullptr}, neighbour{nullptr}, self{nullptr};
};
TORCH_MODULE(ExpertGraphConv);

// The coupler: GNN layers (each with a residual), mean over experts, Linear -> GELU -> LayerNorm.
struct GnnCouplerImpl : torch::nn::Module {
  GnnCouplerImpl(int64_t numExperts, int64_t dim, int64_t gnnLayers);

  torch::Tensor forward(const torch::Tensor& expertOutputs);  // [N, E, D] -> [N, D]
  std::vector<torch::Tensor> adjacencies() const;

  torch::nn::ModuleList gnn;
  torch::nn::Linear combine{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(GnnCoupler);

}  // namespace moelab
