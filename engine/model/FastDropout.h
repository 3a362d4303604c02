#pragma once
#include <torch/torch.h>

#include <cstdint>

namespace moelab {

// The mask of one inverted-dropout call: element i of the (contiguous) tensor is kept, and scaled
// by 1/(1-p), when its 16-bit slice of a counter-based hash (SplitMix64 of i/4 under `key`) is
// >= p * 65536. Being a pure function of (key, i), a fused kernel can recompute it in backward
// instead of storing it.
struct DropoutMask {
  uint64_t key = 0;
  uint32_t threshold = 0;  // p * 65536, resolution 1.5e-5 in p
  float scale = 1.0f;      // 1 / (1 - p)

  // Draws the key from torch's default generator, so runs stay reproducible and a restored RNG
  // state (resume) replays the same masks. 0 < p < 1.
  static DropoutMask draw(double p);
  static uint64_t mix(uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t hashOfQuad(int64_t quad) const { return mix(key ^ uint64_t(quad) * 0xd1b54a32d192ed03ULL); }
  // out[j] = x[j] * (mask value of element first + j), j < n. out may alias x.
  void applyTo(const float* x, float* out, int64_t first, int64_t n) const {
    uint64_t h = hashOfQuad(first >> 2);
    for (int64_t j = 0; j < n; ++j) {
      const int64_t i = first + j;
      if (j > 0 && (i & 3) == 0) h = hashOfQuad(i >> 2);
      out[j] = uint32_t((h >> (16 * (i & 3))) & 0xFFFF) >= threshold ? x[j] * scale : 0.0f;
    }
  }
};

// Inverted dropout with a DropoutMask instead of Tensor::bernoulli_, which costs ~9 ns per element
// on CPU (~8% of a seed-config training step).
torch::Tensor fastDropout(const torch::Tensor& x, double p, bool training);

}  // namespace moelab
