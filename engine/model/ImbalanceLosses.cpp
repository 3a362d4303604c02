#include "model/ImbalanceLosses.h"

#include <cmath>

namespace moelab {

torch::Tensor softGini(const torch::Tensor& load) {
  const double E = double(load.size(0));
  // |x| has gradient sign(x) = 0 at x = 0, so perfect balance gives a zero, finite gradient.
  return (load.unsqueeze(0) - load.unsqueeze(1)).abs().sum() / (2.0 * E * load.sum());
}

torch::Tensor softVariance(const torch::Tensor& load) {
  return (load - load.mean()).pow(2).mean();
}

torch::Tensor softCvSquared(const torch::Tensor& load) {
  const auto m = load.mean();
  return (load - m).pow(2).mean() / (m * m);
}

torch::Tensor softEntropyGap(const torch::Tensor& load) {
  const double E = double(load.size(0));
  auto p = load / load.sum();
  auto h = -(p * torch::log(p.clamp_min(1e-12))).sum();
  return 1.0 - h / std::log(E);
}

ImbalanceLossWeights ImbalanceLossWeights::from(const ModelConfig& cfg) {
  return {cfg.giniLossCoef, cfg.varianceLossCoef, cfg.cvLossCoef, cfg.entropyLossCoef};
}

torch::Tensor ImbalanceLossWeights::weighted(const torch::Tensor& load) const {
  auto total = torch::zeros({}, load.options());
  if (gini > 0) total = total + gini * softGini(load);
  if (variance > 0) total = total + variance * softVariance(load);
  if (cv > 0) total = total + cv * softCvSquared(load);
  if (entropy > 0) total = total + entropy * softEntropyGap(load);
  return total;
}

}  // namespace moelab
