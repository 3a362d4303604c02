#pragma once
#include <torch/torch.h>

namespace moelab {

// LayerNorm or RMSNorm of x [..., E, N, D] (or [1, N, D] broadcast to E) with a per-copy scale
// (and shift, LayerNorm only) of shape [E, D]. bias may be undefined.
torch::Tensor stackedNorm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                          bool rms, double eps = 1e-5);
// RMSNorm over the last dimension with a weight broadcast against it.
torch::Tensor rmsNorm(const torch::Tensor& x, const torch::Tensor& weight, double eps = 1e-5);

}  // namespace moelab
