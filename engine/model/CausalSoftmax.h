#pragma once
#include <torch/torch.h>

namespace moelab {

// softmax(scale * scores) under a causal mask, for attention scores [..., R, T] whose row r
// belongs to query position r mod T (query groups stacked along R = group * T): row r sees keys
// 0..r mod T and is 0 beyond. One pass per row over its visible part; no mask tensor, no masked
// copy, no exponentials of -inf, and backward touches only the visible part too. CPU float32;
// elsewhere the same result through masked_fill and torch::softmax.
torch::Tensor causalSoftmax(const torch::Tensor& scores, double scale);

}  // namespace moelab
