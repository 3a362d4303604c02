#pragma once
#include <torch/torch.h>

#include "config/ExperimentConfig.h"
#include "model/StackedAttention.h"

namespace moelab {

// E independent pre-norm transformer blocks (causal self-attention + GELU FFN of width 4D,
// dropout), each adding its own residual, all applied to the same input. Their weights are stacked
// ([E, D, 3D], [E, D, 4D], ...) so the E small matmuls of each projection become one batched
// matmul. With E = 1 this is the dense baseline's block.
struct ExpertBlockStackImpl : torch::nn::Module {
  ExpertBlockStackImpl(int64_t numExperts, const ModelConfig& cfg);

  // x: [B, T, D] -> every expert's output, [E, B*T, D].
  torch::Tensor forward(const torch::Tensor& x);

  int64_t numExperts, dim;
  double dropout;
  bool rms;
  StackedAttention attention{nullptr};
  torch::Tensor ln1Weight, ln1Bias, ln2Weight, ln2Bias, fc1Weight, fc1Bias, fc2Weight, fc2Bias;
};
TORCH_MODULE(ExpertBlockStack);

}  // namespace moelab
