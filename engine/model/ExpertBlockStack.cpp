#include "model/ExpertBlockStack.h"

#include "model/FastDropout.h"

#include <cmath>

namespace moelab {
namespace {

// LayerNorm of [.., N, D] without affine, then each expert's own scale and shift ([E, D]).
torch::Tensor expertLayerNorm(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  auto n = torch::layer_norm(x, {x.size(-1)}, {}, {}, 1e-5);
  return torch::addcmul(b.unsqueeze(1), n, w.unsqueeze(1));
}

}  // namespace

ExpertBlockStackImpl::ExpertBlockStackImpl(int64_t e, int64_t d, int64_t h, double p)
    : numExperts(e), dim(d), numHeads(h), dropout(p) {
  auto normal = [&](std::vector<int64_t> shape) { return torch::randn(shape) * 0.02; };
  ln1Weight = register_parameter("ln1_weight", torch::ones({e, d}));
  ln1Bias = register_parameter("ln1_bias", torch::zeros({e, d}));
  qkvWeight = register_parameter("qkv_weight", normal({e, d, 3 * d}));
  qkvBias = register_parameter("qkv_bias", torch::zeros({e, 3 * d}));
  outWeight = register_parameter("out_weight", normal({e, d, d}));
  outBias = register_parameter("out_bias", torch::zeros({e, d}));
  ln2Weight = register_parameter("ln2_weight", torch::ones({e, d}));
  ln2Bias = register_parameter("ln2_bias", torch::zeros({e, d}));
  fc1Weight = register_parameter("fc1_weight", normal({e, d, 4 * d}));
  fc1Bias = register_parameter("fc1_bias", torch::zeros({e, 4 * d}));
  fc2Weight = register_parameter("fc2_weight", normal({e, 4 * d, d}));
  fc2Bias = register_parameter("fc2_bias", torch::zeros({e, d}));
}

torch::Tensor causalAttention(const torch::Tensor& qkv, int64_t numHeads, double dropout, bool training) {
  const int64_t G = qkv.size(0), T = qkv.size(1), D = qkv.size(2) / 3, hd = D / numHeads;
  auto parts = qkv.view({G, T, 3, numHeads, hd}).permute({2, 0, 3, 1, 4});  // [3, G, H, T, hd]
  auto q = parts[0] * (1.0 / std::sqrt(double(hd)));
  auto scores = torch::matmul(q, parts[1].transpose(-2, -1));  // [G, H, T, T]
  auto future = torch::ones({T, T}, torch::dtype(torch::kBool).device(qkv.device())).triu(1);
  auto att = torch::softmax(scores.masked_fill(future, -INFINITY), -1);
  att = fastDropout(att, dropout, training);
  return torch::matmul(att, parts[2]).transpose(1, 2).reshape({G, T, D});
}

torch::Tensor ExpertBlockStackImpl::forward(const torch::Tensor& x) {
  const int64_t B = x.size(0), T = x.size(1), E = numExperts, D = dim;
  auto flat = x.reshape({1, B * T, D});
  // Attention sub-block: the first LayerNorm's statistics are shared by all experts.
  auto a = expertLayerNorm(flat, ln1Weight, ln1Bias);                       // [E, N, D]
  auto qkv = torch::baddbmm(qkvBias.unsqueeze(1), a, qkvWeight);           // [E, N, 3D]
  auto ctx = causalAttention(qkv.view({E * B, T, 3 * D}), numHeads, dropout, is_training());
  auto attnOut = torch::baddbmm(outBias.unsqueeze(1), ctx.view({E, B * T, D}), outWeight);
  auto h = flat + fastDropout(attnOut, dropout, is_training());           // [E, N, D]
  // Feed-forward sub-block.
  auto f = torch::baddbmm(fc1Bias.unsqueeze(1), expertLayerNorm(h, ln2Weight, ln2Bias), fc1Weight);
  f = fastDropout(torch::gelu(f), dropout, is_training());
  auto y = torch::baddbmm(fc2Bias.unsqueeze(1), f, fc2Weight);
  return h + fastDropout(y, dropout, is_training());
}

}  // namespace moelab
