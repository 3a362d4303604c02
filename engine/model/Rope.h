#pragma once
#include <torch/torch.h>

namespace moelab {

// Rotary position embeddings (half-split layout): for each pair (x_i, x_{i+d/2}) at position t,
// rotate by angle t * theta^(-2i/d). Scores q_m . k_n then depend on m and n only through m - n.
struct RopeTable {
  torch::Tensor cos, sin;  // [T, hd/2]
  static RopeTable build(int64_t maxSeq, int64_t headDim, double theta);
};
// x: [..., T, hd] with T <= table length; positions start at `offset`.
torch::Tensor applyRope(const torch::Tensor& x, const RopeTable& table, int64_t offset = 0);

}  // namespace moelab
