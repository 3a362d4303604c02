#pragma once
#include <torch/torch.h>

#include "config/ExperimentConfig.h"
#include "model/RoutingStats.h"

namespace moelab {

// Which assignments (token, expert) survive capacity, grouped by expert.
struct DispatchPlan {
  torch::Tensor tokenIndex;      // [M] token of each kept assignment, sorted by expert
  torch::Tensor weight;          // [M] its renormalised top-k routing weight
  std::vector<int64_t> counts;   // kept assignments per expert (sums to M)
  torch::Tensor auxLoss, zLoss;  // scalars, differentiable
  RoutingStats stats;
};

// Linear(D -> E) router in fp32, softmax, top-k with renormalised weights, capacity
// ceil(k*T/E * factor) per expert (0 = dropless) with position or lowest-probability drop policy,
// Switch-form load-balancing loss normalised to 1.0 at uniform routing, router z-loss, optional
// jitter, and DeepSeek-V3 aux-loss-free selection bias.
struct RouterTopKImpl : torch::nn::Module {
  RouterTopKImpl(const ModelConfig& cfg);

  DispatchPlan route(const torch::Tensor& x, double capacityFactor);  // x: [N, D]
  // Aux-loss-free balancing: bias += gamma * sign(mean load - load) using the last training pass.
  void updateSelectionBias();

  int64_t numExperts, topK;
  double jitter, gamma;
  bool byProbability, auxFree;
  torch::Tensor weight;         // [E, D]
  torch::Tensor selectionBias;  // [E] fp32 buffer; only affects which experts are chosen
  std::vector<int64_t> lastLoads;
};
TORCH_MODULE(RouterTopK);

}  // namespace moelab
