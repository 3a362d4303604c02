#pragma once
#include <torch/torch.h>

namespace moelab {

// E independent pre-LN transformer blocks (causal multi-head attention + GELU FFN of width 4D,
// dropout), each adding its own residual, all applied to the same input. Their weights are stacked
// ([E, D, 3D], [E, D, 4D], ...) so the E small matmuls of each projection become one batched
// matmul. With E = 1 this is the dense baseline's block.
struct ExpertBlockStackImpl : torch::nn::Module {
  ExpertBlockStackImpl(int64_t numExperts, int64_t dim, int64_t numHeads, double dropout);

  // x: [B, T, D] -> every expert's output, [E, B*T, D].
  torch::Tensor forward(const torch::Tensor& x);

  int64_t numExperts, dim, numHeads;
  double dropout;
  torch::Tensor ln1Weight, ln1Bias, qkvWeight, qkvBias, outWeight, outBias;
  torch::Tensor ln2Weight, ln2Bias, fc1Weight, fc1Bias, fc2Weight, fc2Bias;
};
TORCH_MODULE(ExpertBlockStack);

// Causal self-attention over [G, T, 3D] fused projections (G = experts x batch): [G, T, D].
torch::Tensor causalAttention(const torch::Tensor& qkv, int64_t numHeads, double dropout, bool training);

}  // namespace moelab
