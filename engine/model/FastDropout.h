#pragma once
#include <torch/torch.h>

namespace moelab {

// Inverted dropout whose mask comes from a counter-based hash (SplitMix64) instead of
// Tensor::bernoulli_, which costs ~9 ns per element on CPU (~8% of a seed-config training step).
// The hash key is drawn from torch's default generator, so runs stay reproducible and a restored
// RNG state (resume) replays the same masks.
torch::Tensor fastDropout(const torch::Tensor& x, double p, bool training);

}  // namespace moelab
