#include "model/StackedAttention.h"

#include <cmath>

#include "model/CausalSoftmax.h"
#include "model/FastDropout.h"
#include "model/FusedCausalAttention.h"
#include "model/SmallBatchedMatmul.h"
#include "model/StackedNorm.h"

namespace moelab {

StackedAttentionImpl::StackedAttentionImpl(int64_t e, const ModelConfig& cfg)
    : copies(e),
      dim(cfg.embedDim),
      heads(cfg.numHeads),
      kvHeads(cfg.kvHeads()),
      headDim(cfg.headDim()),
      dropout(cfg.dropout),
      gated(cfg.gatedAttention),
      qkNorm(cfg.qkNorm),
      useRope(cfg.rope()) {
  const int64_t D = dim, width = (heads + 2 * kvHeads) * headDim + (gated ? D : 0);
  qkvWeight = register_parameter("qkv_weight", torch::randn({e, D, width}) * 0.02);
  if (cfg.bias) qkvBias = register_parameter("qkv_bias", torch::zeros({e, width}));
  outWeight = register_parameter("out_weight", torch::randn({e, D, D}) * 0.02);
  if (cfg.bias) outBias = register_parameter("out_bias", torch::zeros({e, D}));
  if (qkNorm) {
    qNormWeight = register_parameter("q_norm_weight", torch::ones({e, headDim}));
    kNormWeight = register_parameter("k_norm_weight", torch::ones({e, headDim}));
  }
  if (useRope) rope = RopeTable::build(cfg.maxSeqLength, headDim, cfg.ropeTheta);
}

torch::Tensor causalAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                              double dropout, bool training) {
  const int64_t G = q.size(0), H = q.size(1), T = q.size(2), hd = q.size(3), Hkv = k.size(1), group = H / Hkv;
  if (fusedAttentionSupported(q, k, v) && dropout < 1.0)
    return fusedCausalAttention(q, k, v, 1.0 / std::sqrt(double(hd)), dropout, training);
  // A query group's rows stacked ([group*T, hd]) share their KV head's keys and values: one product
  // per KV head, no broadcast copies of k and v.
  // The 1/sqrt(hd) scale is applied inside the causal softmax (no pass over q for it).
  auto scores = smallBatchedMatmul(q.reshape({G * Hkv, group * T, hd}), k.reshape({G * Hkv, T, hd}),
                                   /*transposeB=*/true);
  auto att = fastDropout(causalSoftmax(scores, 1.0 / std::sqrt(double(hd))), dropout, training);
  return smallBatchedMatmul(att, v.reshape({G * Hkv, T, hd})).view({G, H, T, hd}).transpose(1, 2);
}

torch::Tensor StackedAttentionImpl::forward(const torch::Tensor& x, int64_t B, int64_t T) {
  const int64_t E = copies, D = dim, hd = headDim;
  auto xe = x.size(0) == E ? x : x.expand({E, x.size(1), x.size(2)});
  auto proj =
      qkvBias.defined() ? torch::baddbmm(qkvBias.unsqueeze(1), xe, qkvWeight) : torch::bmm(xe, qkvWeight);
  const double scale = 1.0 / std::sqrt(double(hd));
  // Plain q, k, v (no QK-norm, no RoPE) are views of the projection: the packed kernel reads them
  // there and returns the projection's gradient in one piece.
  if (!qkNorm && !useRope && proj.scalar_type() == torch::kFloat && proj.is_cpu() && dropout < 1.0) {
    auto ctx = fusedCausalAttentionPacked(proj.view({E * B, T, proj.size(2)}), heads, kvHeads, hd, scale,
                                          dropout, is_training())
                   .view({E, B * T, D});
    if (gated) ctx = ctx * torch::sigmoid(proj.narrow(2, (heads + 2 * kvHeads) * hd, D));
    return outBias.defined() ? torch::baddbmm(outBias.unsqueeze(1), ctx, outWeight)
                             : torch::bmm(ctx, outWeight);
  }
  auto split = [&](int64_t from, int64_t nHeads) {  // [E, N, nHeads*hd] -> [E*B, nHeads, T, hd]
    return proj.narrow(2, from, nHeads * hd).reshape({E * B, T, nHeads, hd}).transpose(1, 2);
  };
  auto q = split(0, heads), k = split(heads * hd, kvHeads), v = split((heads + kvHeads) * hd, kvHeads);
  if (qkNorm) {  // per-copy scale: [E, hd] -> [E*B, 1, 1, hd]
    auto perGroup = [&](const torch::Tensor& w) { return w.repeat_interleave(B, 0).view({E * B, 1, 1, hd}); };
    q = rmsNorm(q, perGroup(qNormWeight));
    k = rmsNorm(k, perGroup(kNormWeight));
  }
  if (useRope) {
    q = applyRope(q, rope);
    k = applyRope(k, rope);
  }
  auto ctx = causalAttention(q, k, v, dropout, is_training()).reshape({E, B * T, D});
  if (gated) ctx = ctx * torch::sigmoid(proj.narrow(2, (heads + 2 * kvHeads) * hd, D));
  return outBias.defined() ? torch::baddbmm(outBias.unsqueeze(1), ctx, outWeight)
                           : torch::bmm(ctx, outWeight);
}

}  // namespace moelab
