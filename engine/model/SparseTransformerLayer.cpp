#include "model/SparseTransformerLayer.h"

#include "model/FastDropout.h"
#include "model/StackedNorm.h"

namespace moelab {

SparseTransformerLayerImpl::SparseTransformerLayerImpl(const ModelConfig& cfg, bool isMoe, ExpertShard shard)
    : rms(cfg.rmsNorm()), dropout(cfg.dropout) {
  const int64_t D = cfg.embedDim;
  norm1Weight = register_parameter("norm1_weight", torch::ones({1, D}));
  norm2Weight = register_parameter("norm2_weight", torch::ones({1, D}));
  if (!rms) {
    norm1Bias = register_parameter("norm1_bias", torch::zeros({1, D}));
    norm2Bias = register_parameter("norm2_bias", torch::zeros({1, D}));
  }
  attention = register_module("attention", StackedAttention(1, cfg));
  if (isMoe)
    moe = register_module("moe", SparseMoeFfn(cfg, shard));
  else
    dense = register_module("ffn", SwiGluFfn(D, cfg.topK * cfg.expertWidth()));
}

torch::Tensor SparseTransformerLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& realTokens) {
  const int64_t B = x.size(0), T = x.size(1), D = x.size(2);
  auto flat = x.reshape({1, B * T, D});
  auto h = flat + fastDropout(attention(stackedNorm(flat, norm1Weight, norm1Bias, rms), B, T), dropout,
                              is_training());
  auto n = stackedNorm(h, norm2Weight, norm2Bias, rms)[0];
  auto f = moe ? moe(n, realTokens) : dense(n);
  return (h[0] + fastDropout(f, dropout, is_training())).view_as(x);
}

}  // namespace moelab
