#include "model/Rope.h"

namespace moelab {

RopeTable RopeTable::build(int64_t maxSeq, int64_t headDim, double theta) {
  auto i = torch::arange(0, headDim / 2, torch::kFloat64);
  auto invFreq = torch::pow(theta, -2.0 * i / double(headDim));
  auto angles = torch::outer(torch::arange(maxSeq, torch::kFloat64), invFreq);
  return {angles.cos().to(torch::kFloat), angles.sin().to(torch::kFloat)};
}

torch::Tensor applyRope(const torch::Tensor& x, const RopeTable& t, int64_t offset) {
  const int64_t T = x.size(-2), half = x.size(-1) / 2;
  auto c = t.cos.slice(0, offset, offset + T), s = t.sin.slice(0, offset, offset + T);
  auto x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
  return torch::cat({x1 * c - x2 * s, x1 * s + x2 * c}, -1);
}

}  // namespace moelab
