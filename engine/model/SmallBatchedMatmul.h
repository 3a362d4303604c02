#pragma once
#include <torch/torch.h>

namespace moelab {

// c[i] = a[i] · op(b[i]) for a batch of small matrices (attention's per-head products):
// a [batch, M, K], b [batch, K, N], or [batch, N, K] with transposeB. Differentiable. On CPU in
// fp32 each product is one single-threaded oneDNN sgemm and the batch is split over ATen's threads:
// ~2.5x faster than torch::bmm, which calls a multithreaded BLAS once per matrix. Anything else
// (other dtypes, devices, a build without oneDNN) is torch::bmm.
torch::Tensor smallBatchedMatmul(const torch::Tensor& a, const torch::Tensor& b, bool transposeB = false);

}  // namespace moelab
