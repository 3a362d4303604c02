#pragma once
#include <torch/torch.h>

namespace moelab {

// fastDropout(torch::gelu(x), p, training) in one pass forward and one backward for CPU fp32: GELU
// (erf form) in AVX2, the dropout mask recomputed from its key in backward instead of stored, no
// [N, 4D] mask or GELU-output temporaries. Same mask elements as fastDropout (same key draw, same
// element order), so results equal the composition to fp32 rounding. p = 0 or !training is plain
// GELU. Other devices and dtypes run the composition.
torch::Tensor geluDropout(const torch::Tensor& x, double p, bool training);

}  // namespace moelab
