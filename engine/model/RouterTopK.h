#pragma once
#include <torch/torch.h>

#include "config/ExperimentConfig.h"
#include "model/ImbalanceLosses.h"
#include "model/RouteReassignment.h"
#include "model/RoutingStats.h"

namespace moelab {

// Which assignments (token, expert) survive capacity, grouped by expert.
struct DispatchPlan {
  torch::Tensor tokenIndex;      // [M] token of each kept assignment, sorted by expert
  torch::Tensor weight;          // [M] its renormalised top-k routing weight
  std::vector<int64_t> counts;   // kept assignments per expert (sums to M)
  torch::Tensor auxLoss, zLoss;  // scalars, differentiable
  torch::Tensor imbalanceLoss;   // sum of the configured soft imbalance losses (0 when none)
  RoutingStats stats;
};

// Linear(D -> E) router in fp32, softmax, top-k with renormalised weights, capacity
// ceil(k*T/E * factor) per expert (0 = dropless) with position or lowest-probability drop policy,
// Switch-form load-balancing loss normalised to 1.0 at uniform routing, router z-loss, optional
// jitter, and DeepSeek-V3 aux-loss-free selection bias.
struct RouterTopKImpl : torch::nn::Module {
  RouterTopKImpl(const ModelConfig& cfg);

  // x: [N, D], the tokens to route (padding already removed). Capacity and every loss and
  // statistic count these N tokens only.
  DispatchPlan route(const torch::Tensor& x, double capacityFactor);
  // ceil(k * tokens / E * factor) assignments per expert; factor 0 = dropless (every assignment).
  int64_t capacityFor(int64_t tokens, double capacityFactor) const;
  // Aux-loss-free balancing: bias += gamma * sign(mean load - load) using the last training pass.
  void updateSelectionBias();
  // Inference-time reassignment (evaluation mode only; training always routes by top-k).
  void setReassignment(const ReassignSpec& spec);

  int64_t numExperts, topK;
  double jitter, gamma;
  bool byProbability, auxFree;
  torch::Tensor weight;         // [E, D]
  torch::Tensor selectionBias;  // [E] fp32 buffer; only affects which experts are chosen
  std::vector<int64_t> lastLoads;
  ImbalanceLossWeights imbalance;
  // While on, route() keeps each routed token's chosen experts ([N, k] int64, CPU) in lastChosen.
  bool recordChoices = false;
  torch::Tensor lastChosen;
  RouteReassigner reassigner;

 private:
  // The steps of route(), in order.
  struct Selection {
    torch::Tensor logits, probs;  // [N, E] fp32
    torch::Tensor chosen;         // [N, k] expert ids
    torch::Tensor topProbs;       // [N, k] their raw router probabilities
    torch::Tensor weights;        // [N, k] renormalised to sum to 1 per token
    torch::Tensor experts;        // [N*k] chosen, flattened: assignment a = n*k + j
    torch::Tensor routed;         // [E] assignments per expert before capacity
  };
  Selection select(const torch::Tensor& x);
  void balancingLosses(const Selection& s, DispatchPlan& plan) const;
  // Indices of the assignments within capacity, grouped by expert (see route()).
  torch::Tensor keptAssignments(const Selection& s, int64_t capacity) const;
  void collectStatistics(const Selection& s, const torch::Tensor& kept, int64_t capacity,
                         DispatchPlan& plan) const;
};
TORCH_MODULE(RouterTopK);

}  // namespace moelab
