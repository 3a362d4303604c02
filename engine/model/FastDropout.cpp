#include "model/FastDropout.h"

#include <ATen/Parallel.h>

#include <limits>

namespace moelab {

DropoutMask DropoutMask::draw(double p) {
  DropoutMask m;
  m.key = uint64_t(torch::randint(std::numeric_limits<int64_t>::max(), {1}, torch::kLong).item<int64_t>());
  m.scale = float(1.0 / (1.0 - p));
  m.threshold = uint32_t(p * 65536.0 + 0.5);
  return m;
}

torch::Tensor fastDropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0.0) return x;
  if (p >= 1.0) return x * 0.0;
  // The hand-written mask loop is for fp32 CPU tensors; elsewhere torch's own kernel is the fast one.
  if (!x.is_cpu() || x.scalar_type() != torch::kFloat) return torch::dropout(x, p, training);
  const DropoutMask drop = DropoutMask::draw(p);
  auto mask = torch::empty(x.sizes(), x.options().requires_grad(false));
  float* m = mask.data_ptr<float>();
  const int64_t n = mask.numel();
  at::parallel_for(0, (n + 3) / 4, 4096, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const uint64_t h = drop.hashOfQuad(i);
      for (int k = 0; k < 4 && 4 * i + k < n; ++k)
        m[4 * i + k] = uint32_t((h >> (16 * k)) & 0xFFFF) >= drop.threshold ? drop.scale : 0.0f;
    }
  });
  return x * mask;
}

}  // namespace moelab
