#include "model/StackedNorm.h"

namespace moelab {

torch::Tensor rmsNorm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  auto n = x * torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight.defined() ? n * weight : n;
}

torch::Tensor stackedNorm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                          bool rms, double eps) {
  if (rms) return rmsNorm(x, weight.unsqueeze(1), eps);
  auto n = torch::layer_norm(x, {x.size(-1)}, {}, {}, eps);
  return bias.defined() ? torch::addcmul(bias.unsqueeze(1), n, weight.unsqueeze(1)) : n * weight.unsqueeze(1);
}

}  // namespace moelab
