#pragma once
#include <torch/torch.h>

#include "config/ExperimentConfig.h"
#include "model/StackedAttention.h"

namespace moelab {

// E independent pre-norm transformer blocks, each adding its own residual, all applied to the same
// input. Their weights are stacked ([E, D, 3D], [E, D, 4D], ...) so the E small matmuls of each
// projection become one batched matmul. With E = 1 this is the dense baseline's block.
//   gnn_moe (the seed's expert block):  h = x + MHA(LN1(x)), dropout only on attention probabilities;
//                                       y = h + Dropout(W2 Dropout(GELU(W1 LN2(h))))
//   dense (GPT-2 style):                h = x + Dropout(MHA(LN1(x))), y as above.
struct ExpertBlockStackImpl : torch::nn::Module {
  ExpertBlockStackImpl(int64_t numExperts, const ModelConfig& cfg);

  // x: [B, T, D] -> every expert's output, [E, B*T, D].
  torch::Tensor forward(const torch::Tensor& x);

  int64_t numExperts, dim;
  double dropout;
  bool attentionOutputDropout;  // dense only: residual dropout on the attention output
  bool rms;
  StackedAttention attention{nullptr};
  torch::Tensor ln1Weight, ln1Bias, ln2Weight, ln2Bias, fc1Weight, fc1Bias, fc2Weight, fc2Bias;
};
TORCH_MODULE(ExpertBlockStack);

}  // namespace moelab
