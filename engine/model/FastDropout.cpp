#include "model/FastDropout.h"

#include <ATen/Parallel.h>

namespace moelab {
namespace {
inline uint64_t splitmix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
}  // namespace

torch::Tensor fastDropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0.0) return x;
  if (p >= 1.0) return x * 0.0;
  // The hand-written mask loop is for fp32 CPU tensors; elsewhere torch's own kernel is the fast one.
  if (!x.is_cpu() || x.scalar_type() != torch::kFloat) return torch::dropout(x, p, training);
  const uint64_t key =
      uint64_t(torch::randint(std::numeric_limits<int64_t>::max(), {1}, torch::kLong).item<int64_t>());
  const float scale = float(1.0 / (1.0 - p));
  // Keep an element when its 16-bit hash slice is >= p * 65536 (resolution 1.5e-5 in p).
  const uint32_t threshold = uint32_t(p * 65536.0 + 0.5);
  auto mask = torch::empty(x.sizes(), x.options().requires_grad(false));
  float* m = mask.data_ptr<float>();
  const int64_t n = mask.numel();
  at::parallel_for(0, (n + 3) / 4, 4096, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      uint64_t h = splitmix64(key ^ uint64_t(i) * 0xd1b54a32d192ed03ULL);
      for (int k = 0; k < 4 && 4 * i + k < n; ++k)
        m[4 * i + k] = uint32_t((h >> (16 * k)) & 0xFFFF) >= threshold ? scale : 0.0f;
    }
  });
  return x * mask;
}

}  // namespace moelab
