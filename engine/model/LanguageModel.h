#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "config/ExperimentConfig.h"
#include "model/ExpertBlockStack.h"
#include "model/ExpertGraphConv.h"
#include "model/ModelSize.h"
#include "model/RoutingStats.h"
#include "model/SparseTransformerLayer.h"

namespace moelab {

class ExpertParallel;

// What tokens actually see of one gnn_moe layer's expert graph (see GnnCoupler::record):
// per GNN layer the mean and the spread across tokens of A_ij c_ij ([E, E]), and each expert's
// share of the coupled output ([E]).
struct ExpertCoupling {
  std::vector<torch::Tensor> effective, spread;
  torch::Tensor share;
};

// One gnn_moe or dense layer: E expert blocks on the same input, mixed by the GNN coupler
// (gnn_moe: x + coupler), or a single block (dense).
struct TransformerLayerImpl : torch::nn::Module {
  TransformerLayerImpl(const ModelConfig& cfg, bool coupled);
  torch::Tensor forward(const torch::Tensor& x);  // [B, T, D] -> [B, T, D]

  ExpertBlockStack blocks{nullptr};
  GnnCoupler coupler{nullptr};  // null for dense
};
TORCH_MODULE(TransformerLayer);

// Decoder-only LM: token (+ learned position, unless RoPE) embeddings, dropout, layers (gnn_moe,
// dense or sparse_moe), final norm, LM head (untied with bias as in the seed, or tied to the
// embedding). Rows are padded to vocab_pad_multiple; padded logits never reach the loss.
// Linear and embedding weights init N(0, 0.02).
struct LanguageModelImpl : torch::nn::Module {
  // `shard`: expert parallel builds only this rank's experts (same values as their slice of the
  // whole model built from the same seed).
  explicit LanguageModelImpl(const ModelConfig& cfg, ExpertShard shard = {});

  // tokens [B, T] int64 -> logits [B, T, V] (V unpadded). `mask` ([B, T] bool, true at real tokens;
  // undefined = all real) keeps padding out of the sparse router: pads take no expert capacity and
  // enter no balancing loss or routing statistic. Padding must follow the real tokens of its row
  // (causal attention then never lets a real token see a pad).
  torch::Tensor forward(const torch::Tensor& tokens, const torch::Tensor& mask = {});
  // The two halves of forward: the final-normed hidden states the LM head reads ([B, T, D]; every
  // router and coupler has run), and the head itself. A routing profile needs only the first.
  torch::Tensor hiddenStates(const torch::Tensor& tokens, const torch::Tensor& mask = {});
  torch::Tensor logitsOf(const torch::Tensor& hidden);
  // The training loss of hidden states against targets [B, T] (-100 = not counted): the head and
  // cross-entropy fused where they can be (no [B, T, V] logits tensor of its own), else
  // languageModelLoss(logitsOf(hidden), targets). Same value either way.
  torch::Tensor lossOf(const torch::Tensor& hidden, const torch::Tensor& targets);
  // Weighted load-balancing + z-losses of the last forward (sparse_moe), else an undefined tensor.
  torch::Tensor auxiliaryLoss() const;
  std::vector<RoutingStats> routingStats() const;  // one per MoE layer, from the last forward
  void afterOptimizerStep();                       // aux-loss-free bias updates
  // sparse_moe with model.expert_parallel > 1: every MoE layer's training forward goes through it.
  // Each MoE layer then keeps only this rank's experts (SwiGluExperts::keepShard).
  void setExpertParallel(ExpertParallel* ep);
  bool expertParallel() const;
  // The expert weights this rank holds a slice of (w1, w3, w2 per MoE layer); empty unless sharded.
  std::vector<torch::Tensor> expertShards() const;
  // Every MoE layer's router reassigns tokens by `spec` in evaluation mode (throws UserError when
  // the strategy cannot run on this model); ReassignSpec{} restores top-k.
  void setReassignment(const ReassignSpec& spec);
  // While on, forwards keep each MoE layer's chosen experts of the routed (real) tokens, in
  // row-major order of the mask: lastRoutingChoices()[layer] is [N_real, k] int64 on the CPU.
  void recordRoutingChoices(bool on);
  std::vector<torch::Tensor> lastRoutingChoices() const;
  torch::Tensor headWeight() const;  // [V_padded, D]; the embedding when tied

  // Counted from the registered parameters (countParameters() computes the same from the config);
  // sharded experts count whole.
  ParameterBreakdown parameterBreakdown() const;
  // sigmoid(adjacency) of every GNN layer, [layer][gnn_layer] -> [E, E]; empty unless gnn_moe.
  std::vector<std::vector<torch::Tensor>> adjacencies() const;
  // While on, forwards record each gnn_moe layer's coupling over the real tokens of their mask.
  void recordCoupling(bool on) { recordingCoupling_ = on; }
  // The coupling of the last recorded forward, one per gnn_moe layer; empty otherwise.
  std::vector<ExpertCoupling> lastCoupling() const;
  // Forward matmul FLOPs per token at full sequence length (active experts only).
  double forwardFlopsPerToken(int64_t seqLen) const;

  ModelConfig cfg;
  torch::nn::Embedding tokenEmbedding{nullptr}, positionEmbedding{nullptr};
  torch::nn::ModuleList layers;
  torch::Tensor finalNormWeight, finalNormBias;
  torch::nn::Linear head{nullptr};          // null when tied
  std::vector<RouterTopK> routers() const;  // one per MoE layer (sparse_moe)

 private:
  bool recordingCoupling_ = false;
};
TORCH_MODULE(LanguageModel);

// Loss over unmasked targets (-100 = masked), mean over tokens.
torch::Tensor languageModelLoss(const torch::Tensor& logits, const torch::Tensor& targets);

}  // namespace moelab
