#pragma once
#include <cstdint>
#include <vector>

namespace moelab {

// What one MoE layer's router did in one forward pass. Plain numbers, so the trainer, the store
// and the UI can use them without LibTorch.
struct RoutingStats {
  std::vector<int64_t> tokensPerExpert;  // assignments routed to each expert, before capacity
  int64_t assignments = 0;               // tokens x k
  int64_t dropped = 0;                   // assignments over capacity
  int64_t capacity = 0;                  // per expert (assignments when dropless)
  double auxLoss = 0, zLoss = 0;
  double routerEntropy = 0;  // mean over tokens of the router distribution's entropy (nats)
  double top1Probability = 0;

  std::vector<double> loadFractions() const;
  double coefficientOfVariation() const;  // std / mean of tokensPerExpert
  double normalisedEntropy() const;       // entropy of the load fractions / log E (1 = uniform)
  double gini() const;
  double maxViolation() const;  // max load / mean load - 1
  int64_t deadExperts() const;  // experts that received no assignment
  double droppedFraction() const;
};

}  // namespace moelab
