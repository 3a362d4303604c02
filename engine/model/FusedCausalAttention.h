#pragma once
#include <torch/torch.h>

namespace moelab {

// Causal self-attention softmax(scale * q kᵀ + causal mask) with inverted dropout on the
// probabilities, times v, for q [G, H, T, hd] and k, v [G, Hkv, T, hd] (H a multiple of Hkv; query
// head h reads key/value head h / (H / Hkv)). Returns [G, T, H, hd] (contiguous): the layout the
// output projection reads, so no transpose copy follows.
//
// One pass per (sequence, head) keeps the [T, T] tile in cache: QKᵀ, causal softmax, dropout and
// P·V run back to back, only the lower-triangle blocks of QKᵀ and P·V are multiplied, q/k/v are
// read through their strides (no contiguous copies of the projection's views), and backward
// recomputes the dropout mask from its key instead of storing it. The probabilities [G, H, T, T]
// are kept for backward as before. Dropout draws one key from torch's generator like fastDropout
// and masks the same elements fastDropout would mask on the [G, H, T, T] probabilities.
//
// The per-head products run on smallGemm (model/SmallGemm.h). Needs CPU float32;
// fusedAttentionSupported() says whether these tensors qualify. Callers fall back to the unfused
// composition otherwise.
bool fusedAttentionSupported(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v);
torch::Tensor fusedCausalAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                   double scale, double dropout, bool training);

// The same on a packed projection proj [G, T, width] (CPU float32): query heads in its first
// heads*headDim columns, then kvHeads key heads, then kvHeads value heads; further columns are not
// read (their gradient is 0). Its backward writes the projection's gradient in one buffer instead
// of three zero-filled [G, T, width] gradients of narrow() views and their sums.
torch::Tensor fusedCausalAttentionPacked(const torch::Tensor& proj, int64_t heads, int64_t kvHeads,
                                         int64_t headDim, double scale, double dropout, bool training);

}  // namespace moelab
