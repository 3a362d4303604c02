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
  // Coupling probe (set by GnnCoupler): while `recording`, forward also keeps the effective
  // message weights A_ij c_ij (zero on the diagonal) averaged over the token rows `rows`
  // (undefined = all) and their standard deviation across those tokens, both [E, E], detached.
  bool recording = false;
  torch::Tensor rows, lastEffective, lastSpread;
  torch::nn::Linear edge{nullptr}, neighbour{nullptr}, self{nullptr};
};
TORCH_MODULE(ExpertGraphConv);

// The coupler: GNN layers (each with a residual), mean over experts, Linear -> GELU -> LayerNorm.
struct GnnCouplerImpl : torch::nn::Module {
  GnnCouplerImpl(int64_t numExperts, int64_t dim, int64_t gnnLayers);

  torch::Tensor forward(const torch::Tensor& expertOutputs);  // [N, E, D] -> [N, D]
  std::vector<torch::Tensor> adjacencies() const;

  // Records the next forwards' coupling (see ExpertGraphConv) over token rows `rows`, and each
  // expert's share of the coupled output: the mean over those tokens of the norm of its post-GNN
  // state, normalised over experts ([E], sums to 1). Off again with record(false, {}).
  void record(bool on, const torch::Tensor& rows);
  torch::Tensor lastShare;

  torch::nn::ModuleList gnn;
  torch::nn::Linear combine{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(GnnCoupler);

}  // namespace moelab
