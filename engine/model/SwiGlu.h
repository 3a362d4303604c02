#pragma once
#include <torch/torch.h>

#include "model/RouterTopK.h"

namespace moelab {

class ExpertParallel;

// Which experts of each MoE layer this process holds under expert parallel: rank `rank` of
// `ranks` holds experts [rank*E/ranks, (rank+1)*E/ranks). The default is all of them.
struct ExpertShard {
  int rank = 0, ranks = 1;
};

// E SwiGLU FFNs without biases, w2(silu(w1 x) * w3 x), weights stacked [E, D, I] / [E, I, D].
struct SwiGluExpertsImpl : torch::nn::Module {
  // With a shard only its experts are kept; each weight is still drawn whole, one at a time, so
  // the random stream and the slice's values are those of one process.
  SwiGluExpertsImpl(int64_t numExperts, int64_t dim, int64_t width, ExpertShard shard = {});
  // x: [M, D] rows grouped by expert, counts[e] rows each -> [M, D]. One matmul chain per expert
  // over its own rows: cost follows the rows (k*T), not E.
  torch::Tensor forward(const torch::Tensor& x, const std::vector<int64_t>& counts);
  // Expert parallel: keep only experts [rank*E/world, (rank+1)*E/world) (slices of w1, w3, w2 in
  // place of the whole tensors; the same parameters, so modules and optimizers still hold them).
  // Also cuts whole weights read from a checkpoint back to the slice; a no-op on a slice.
  void keepShard(int rank, int world);
  bool sharded() const { return w1.size(0) != numExperts; }
  torch::Tensor w1, w3, w2;
  int64_t numExperts;  // of the whole layer; w1.size(0) of them are held here
};
TORCH_MODULE(SwiGluExperts);

// A dense SwiGLU FFN (one expert applied to every token).
struct SwiGluFfnImpl : torch::nn::Module {
  SwiGluFfnImpl(int64_t dim, int64_t width);
  torch::Tensor forward(const torch::Tensor& x);  // [N, D]
  torch::Tensor w1, w3, w2;
};
TORCH_MODULE(SwiGluFfn);

// Router + grouped dispatch + routed experts (+ shared experts): the sparse MoE FFN.
struct SparseMoeFfnImpl : torch::nn::Module {
  explicit SparseMoeFfnImpl(const ModelConfig& cfg, ExpertShard shard = {});
  // x [N, D] -> [N, D]. Only the rows in realTokens ([M] int64, undefined = all) are routed; the
  // others (padding) get no routed output. Dropped assignments add nothing.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& realTokens = {});

  double trainCapacity, evalCapacity;
  RouterTopK router{nullptr};
  SwiGluExperts experts{nullptr};
  SwiGluFfn shared{nullptr};
  // model.expert_parallel > 1: this rank keeps only its share of the experts, and every forward
  // (training and evaluation) sends the rows to their experts' ranks and back (ExpertParallel).
  // Every rank must then run the same number of forwards.
  void setExpertParallel(ExpertParallel* ep);
  ExpertParallel* expertParallel = nullptr;
  // From the last forward pass.
  torch::Tensor lastAuxLoss, lastZLoss, lastImbalanceLoss;
  RoutingStats lastStats;
};
TORCH_MODULE(SparseMoeFfn);

// The expert-parallel half of SparseMoeFfn's forward: `sorted` [M, D] rows grouped by expert
// (counts[e] each, this rank's kept assignments) go to their experts' ranks, are computed there by
// `experts`, and come back in the same order. Every rank must call it, with or without rows.
torch::Tensor expertParallelForward(ExpertParallel& ep, SwiGluExperts& experts, const torch::Tensor& sorted,
                                    const std::vector<int64_t>& counts);

}  // namespace moelab
