#pragma once
#include <torch/torch.h>

#include "config/ExperimentConfig.h"

namespace moelab {

// Differentiable imbalance of the soft expert load P (P_i = mean router probability of expert i
// over the routed tokens, sum P = 1), for fine-tuning toward balance. Each is 0 at perfect balance
// and has a finite gradient there (CV^2 is computed from the variance, never through a std whose
// square root has an infinite derivative at 0).
//   gini     = sum_ij |P_i - P_j| / (2E)          in [0, 1 - 1/E]
//   variance = mean_i (P_i - 1/E)^2
//   cv       = CV^2 = mean_i (E P_i - 1)^2
//   entropy  = 1 - H(P) / ln E                    in [0, 1]
torch::Tensor softGini(const torch::Tensor& load);
torch::Tensor softVariance(const torch::Tensor& load);
torch::Tensor softCvSquared(const torch::Tensor& load);
torch::Tensor softEntropyGap(const torch::Tensor& load);

// model.{gini,variance,cv,entropy}_loss_coef; the Switch loss keeps its own aux_loss_coef.
struct ImbalanceLossWeights {
  double gini = 0, variance = 0, cv = 0, entropy = 0;
  static ImbalanceLossWeights from(const ModelConfig& cfg);
  bool any() const { return gini > 0 || variance > 0 || cv > 0 || entropy > 0; }
  // sum of coefficient x loss; a zero scalar when no coefficient is set.
  torch::Tensor weighted(const torch::Tensor& load) const;
};

}  // namespace moelab
