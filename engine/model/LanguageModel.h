#pragma once
#include <string>
#include <vector>

#include <torch/torch.h>

#include "config/ExperimentConfig.h"
#include "model/ExpertBlockStack.h"
#include "model/ExpertGraphConv.h"

namespace moelab {

// One layer: E expert blocks on the same input, mixed by the GNN coupler (gnn_moe: x + coupler),
// or a single block (dense).
struct TransformerLayerImpl : torch::nn::Module {
  TransformerLayerImpl(const ModelConfig& cfg, bool coupled);
  torch::Tensor forward(const torch::Tensor& x);  // [B, T, D] -> [B, T, D]

  ExpertBlockStack blocks{nullptr};
  GnnCoupler coupler{nullptr};  // null for dense
};
TORCH_MODULE(TransformerLayer);

struct ParameterBreakdown {
  int64_t total = 0, experts = 0, gnnCoupling = 0, other = 0;
};

// Decoder-only LM: token + learned position embeddings, dropout, layers, final LayerNorm, untied
// LM head with bias. Linear and embedding weights init N(0, 0.02).
struct LanguageModelImpl : torch::nn::Module {
  explicit LanguageModelImpl(const ModelConfig& cfg);

  torch::Tensor forward(const torch::Tensor& tokens);  // [B, T] int64 -> logits [B, T, V]
  ParameterBreakdown parameterBreakdown() const;
  // sigmoid(adjacency) of every GNN layer, [layer][gnn_layer] -> [E, E]; empty for dense.
  std::vector<std::vector<torch::Tensor>> adjacencies() const;
  // Forward FLOPs per token (matmuls only; backward counted as 2x by callers).
  double forwardFlopsPerToken(int64_t seqLen) const;

  ModelConfig cfg;
  torch::nn::Embedding tokenEmbedding{nullptr}, positionEmbedding{nullptr};
  torch::nn::ModuleList layers;
  torch::nn::LayerNorm finalNorm{nullptr};
  torch::nn::Linear head{nullptr};
};
TORCH_MODULE(LanguageModel);

// Loss over unmasked targets (-100 = masked), mean over tokens.
torch::Tensor languageModelLoss(const torch::Tensor& logits, const torch::Tensor& targets);

}  // namespace moelab
