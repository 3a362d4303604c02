#pragma once
#include <torch/torch.h>

namespace moelab {

// c[i] = a[i] · op(b[i]) for a batch of small matrices (attention's per-head products):
// a [batch, M, K], b [batch, K, N], or [batch, N, K] with transposeB. Differentiable. On CPU in
// fp32 each product is one single-threaded smallGemm and the batch is split over ATen's threads
// (torch::bmm calls a multithreaded BLAS once per matrix). Anything else (other dtypes, devices) is
// torch::bmm.
torch::Tensor smallBatchedMatmul(const torch::Tensor& a, const torch::Tensor& b, bool transposeB = false);

}  // namespace moelab
