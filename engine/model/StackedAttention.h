#pragma once
#include <torch/torch.h>

#include "config/ExperimentConfig.h"
#include "model/Rope.h"

namespace moelab {

// E independent causal self-attention modules applied to E inputs at once (E = 1 for ordinary
// blocks). One fused projection per copy gives Q (H heads), K and V (n_kv_heads each, grouped-query
// attention) and, with gated attention, the G1 gate logits; options: RoPE, QK-norm, biases.
struct StackedAttentionImpl : torch::nn::Module {
  StackedAttentionImpl(int64_t copies, const ModelConfig& cfg);

  // x: normalised block input [E or 1, B*T, D] -> attention output after the out projection [E, B*T, D].
  torch::Tensor forward(const torch::Tensor& x, int64_t batch, int64_t seqLen);

  int64_t copies, dim, heads, kvHeads, headDim;
  double dropout;
  bool gated, qkNorm, useRope;
  torch::Tensor qkvWeight, qkvBias, outWeight, outBias, qNormWeight, kNormWeight;
  RopeTable rope;
};
TORCH_MODULE(StackedAttention);

// softmax(q k^T / sqrt(hd) + causal mask) v for q [G, H, T, hd], k/v [G, Hkv, T, hd] -> [G, T, H, hd];
// heads are grouped onto key/value heads without copying k and v. CPU fp32 runs the fused kernel
// (model/FusedCausalAttention), anything else the composition of batched products.
torch::Tensor causalAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                              double dropout, bool training);

}  // namespace moelab
