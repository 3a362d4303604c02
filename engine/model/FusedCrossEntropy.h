#pragma once
#include <torch/torch.h>

namespace moelab {

// Mean cross-entropy of logits [N, V] against targets [N] (rows whose target is ignoreIndex do not
// count), as torch::nn::functional::cross_entropy computes it, in one pass per row: row max, sum
// of exponentials, and (when logits require grad) the gradient softmax - onehot, already divided
// by the number of counted rows, written straight into a buffer kept for backward. The [N, V]
// log-softmax, its backward pass and the one-hot fill of nll_loss's backward are never made.
// Exponentials are AVX2 vectorised where the CPU has it (model/VectorMath). CPU float32 only; other tensors
// go to LibTorch's cross_entropy.
torch::Tensor fusedCrossEntropy(const torch::Tensor& logits, const torch::Tensor& targets,
                                int64_t ignoreIndex = -100);

// The LM head and its loss in one: the mean cross-entropy of hidden [N, D] · weightᵀ [D, Vp] (+ bias
// [Vp] if defined) over the first `vocab` columns. The bias is added and the row's gradient
// written in place of its logits while the row is in cache, the bias gradient's column sums are
// gathered in the same pass; backward is the head's two GEMMs. Saves the [N, Vp] bias add and
// column-sum passes and the separate gradient buffer. CPU float32 (no autocast) only: ask
// fusedHeadCrossEntropySupported(), else use the head + fusedCrossEntropy.
bool fusedHeadCrossEntropySupported(const torch::Tensor& hidden, const torch::Tensor& weight,
                                    const torch::Tensor& bias);
torch::Tensor fusedHeadCrossEntropy(const torch::Tensor& hidden, const torch::Tensor& weight,
                                    const torch::Tensor& bias, const torch::Tensor& targets, int64_t vocab,
                                    int64_t ignoreIndex = -100);

}  // namespace moelab
