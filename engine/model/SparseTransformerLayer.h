#pragma once
#include <torch/torch.h>

#include "config/ExperimentConfig.h"
#include "model/StackedAttention.h"
#include "model/SwiGlu.h"

namespace moelab {

// Pre-norm block of the sparse model: x + attn(norm(x)), then + MoE FFN (or a dense SwiGLU FFN of
// width k * expert width, equal active parameters, in layers that are not MoE layers).
struct SparseTransformerLayerImpl : torch::nn::Module {
  SparseTransformerLayerImpl(const ModelConfig& cfg, bool moe, ExpertShard shard = {});
  // x [B, T, D]; realTokens: flat indices (into B*T) of the tokens to route, undefined = all.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& realTokens = {});

  bool rms;
  double dropout;
  torch::Tensor norm1Weight, norm1Bias, norm2Weight, norm2Bias;
  StackedAttention attention{nullptr};
  SparseMoeFfn moe{nullptr};
  SwiGluFfn dense{nullptr};
};
TORCH_MODULE(SparseTransformerLayer);

}  // namespace moelab
