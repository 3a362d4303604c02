#include "model/ExpertBlockStack.h"

#include "model/FastDropout.h"
#include "model/GeluDropout.h"
#include "model/StackedNorm.h"

namespace moelab {

ExpertBlockStackImpl::ExpertBlockStackImpl(int64_t e, const ModelConfig& cfg)
    : numExperts(e),
      dim(cfg.embedDim),
      dropout(cfg.dropout),
      attentionOutputDropout(cfg.architecture != "gnn_moe"),
      rms(cfg.rmsNorm()) {
  const int64_t d = dim;
  auto normal = [&](std::vector<int64_t> shape) { return torch::randn(shape) * 0.02; };
  ln1Weight = register_parameter("ln1_weight", torch::ones({e, d}));
  if (!rms) ln1Bias = register_parameter("ln1_bias", torch::zeros({e, d}));
  attention = register_module("attention", StackedAttention(e, cfg));
  ln2Weight = register_parameter("ln2_weight", torch::ones({e, d}));
  if (!rms) ln2Bias = register_parameter("ln2_bias", torch::zeros({e, d}));
  fc1Weight = register_parameter("fc1_weight", normal({e, d, 4 * d}));
  fc2Weight = register_parameter("fc2_weight", normal({e, 4 * d, d}));
  if (cfg.bias) {
    fc1Bias = register_parameter("fc1_bias", torch::zeros({e, 4 * d}));
    fc2Bias = register_parameter("fc2_bias", torch::zeros({e, d}));
  }
}

namespace {
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  return b.defined() ? torch::baddbmm(b.unsqueeze(1), x, w) : torch::bmm(x, w);
}
}  // namespace

torch::Tensor ExpertBlockStackImpl::forward(const torch::Tensor& x) {
  const int64_t B = x.size(0), T = x.size(1), D = dim;
  auto flat = x.reshape({1, B * T, D});
  // Attention sub-block: LayerNorm statistics of the shared input are computed once for all experts.
  auto a = stackedNorm(flat, ln1Weight, ln1Bias, rms);  // [E, N, D]
  auto attended = attention(a, B, T);
  auto h = flat + (attentionOutputDropout ? fastDropout(attended, dropout, is_training()) : attended);
  // Feed-forward sub-block.
  auto f = linear(stackedNorm(h, ln2Weight, ln2Bias, rms), fc1Weight, fc1Bias);
  f = geluDropout(f, dropout, is_training());
  return h + fastDropout(linear(f, fc2Weight, fc2Bias), dropout, is_training());
}

}  // namespace moelab
