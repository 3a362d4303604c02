#include "model/FusedCausalAttention.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "model/FastDropout.h"
#include "model/SmallGemm.h"
#include "model/VectorMath.h"

namespace moelab {
namespace {

// A [T, hd] matrix of one head inside a strided [G, heads, T, hd] tensor.
struct HeadView {
  const float* base;
  int64_t sg, sh, st;
  const float* at(int64_t g, int64_t h) const { return base + g * sg + h * sh; }
};
HeadView headView(const torch::Tensor& t) {
  return {t.data_ptr<float>(), t.stride(0), t.stride(1), t.stride(2)};
}

struct Shape {
  int64_t G, H, Hkv, T, hd;
  int64_t group() const { return H / Hkv; }
};

// Where backward writes one head's [T, hd] gradient: separate q/k/v gradients or one packed
// projection gradient.
struct HeadGrad {
  float* base;
  int64_t sg, sh, st;
  float* at(int64_t g, int64_t h) const { return base + g * sg + h * sh; }
};
HeadGrad headGrad(torch::Tensor& t) {  // t contiguous [G, heads, T, hd]
  return {t.data_ptr<float>(), t.stride(0), t.stride(1), t.stride(2)};
}

// What forward keeps for backward besides q, k, v.
struct AttentionSaved {
  torch::Tensor out, probs, dropped;
  float keepScale;
};

AttentionSaved attentionForward(const HeadView& Q, const HeadView& K, const HeadView& V, const Shape& s,
                                const torch::TensorOptions& options, double scale, double dropout,
                                bool training) {
  RECORD_FUNCTION("moelab::fusedCausalAttention", std::vector<c10::IValue>{});
  const bool drop = training && dropout > 0.0;
  const DropoutMask mask = drop ? DropoutMask::draw(dropout) : DropoutMask{};
  auto probs = torch::empty({s.G, s.H, s.T, s.T}, options);
  auto out = torch::empty({s.G, s.T, s.H, s.hd}, options);
  // With dropout the dropped-out probabilities are kept too: backward reads the mask off their
  // zeros (a kept probability that underflowed to 0 has a zero gradient either way).
  auto dropped = drop ? torch::empty_like(probs) : torch::Tensor();
  float* dp = drop ? dropped.data_ptr<float>() : nullptr;
  float* pp = probs.data_ptr<float>();
  float* op = out.data_ptr<float>();
  const float c = float(scale);
  const int64_t T = s.T, ldo = s.H * s.hd;
  at::parallel_for(0, s.G * s.H, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> kT(s.hd * T);
    for (int64_t gh = begin; gh < end; ++gh) {
      const int64_t g = gh / s.H, h = gh % s.H, kvh = h / s.group();
      const float *qh = Q.at(g, h), *vh = V.at(g, kvh);
      float* P = pp + gh * T * T;
      transposeInto(K.at(g, kvh), K.st, T, s.hd, kT.data());
      // Scores below the diagonal (the softmax zeroes the rest of each row).
      smallGemm(T, T, s.hd, {qh, Q.st, 1}, kT.data(), T, P, T, false, CausalSkip::OutputLower);
      for (int64_t r = 0; r < T; ++r) {  // causal softmax in place
        float* row = P + r * T;
        const int64_t visible = r + 1;
        std::fill(row + visible, row + T, 0.0f);
        const float m = vec::maxOf(row, visible);
        if (!std::isfinite(m)) {  // NaN or inf scores: NaN probabilities, as softmax gives
          std::fill(row, row + visible, std::numeric_limits<float>::quiet_NaN());
          continue;
        }
        vec::expInto(row, row, visible, m, c, 1.0f / vec::sumExp(row, visible, m, c));
      }
      const float* A = P;
      if (drop) {
        float* D = dp + gh * T * T;
        for (int64_t r = 0; r < T; ++r) {
          mask.applyTo(P + r * T, D + r * T, gh * T * T + r * T, r + 1);
          std::fill(D + r * T + r + 1, D + (r + 1) * T, 0.0f);
        }
        A = D;
      }
      smallGemm(T, s.hd, T, {A, T, 1}, vh, V.st, op + g * T * ldo + h * s.hd, ldo, false,
                CausalSkip::KPrefix);
    }
  });
  return {out, probs, dropped, mask.scale};
}

// Gradients of q, k, v from dout [G, T, H, hd] (contiguous) into dQ, dK, dV (every element written).
void attentionBackward(const HeadView& Q, const HeadView& K, const HeadView& V, const Shape& s,
                       const torch::Tensor& probs, const torch::Tensor& dropped, float keep, float c,
                       const torch::Tensor& dout, const HeadGrad& dQ, const HeadGrad& dK,
                       const HeadGrad& dV) {
  const bool drop = dropped.defined();
  const float *pp = probs.data_ptr<float>(), *gp = dout.data_ptr<float>();
  const float* dpp = drop ? dropped.data_ptr<float>() : nullptr;
  const int64_t T = s.T, hd = s.hd, ldo = s.H * hd;
  // One work item per key/value head: its query heads accumulate into its dk, dv in turn.
  at::parallel_for(0, s.G * s.Hkv, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> dS(T * T), vT(hd * T);
    for (int64_t gk = begin; gk < end; ++gk) {
      const int64_t g = gk / s.Hkv, kvh = gk % s.Hkv;
      const float* kh = K.at(g, kvh);
      transposeInto(V.at(g, kvh), V.st, T, hd, vT.data());
      float *dkh = dK.at(g, kvh), *dvh = dV.at(g, kvh);
      for (int64_t i = 0; i < s.group(); ++i) {
        const int64_t h = kvh * s.group() + i, gh = g * s.H + h;
        const float *qh = Q.at(g, h), *P = pp + gh * T * T, *dO = gp + g * T * ldo + h * hd;
        const bool accumulate = i > 0;
        // dP' = dO Vᵀ (gradient of the dropped-out probabilities), below the diagonal.
        smallGemm(T, T, hd, {dO, ldo, 1}, vT.data(), T, dS.data(), T, false, CausalSkip::OutputLower);
        // Through dropout (dp = dp' m, m = keep or 0) and softmax: dS_j = scale p_j (dp_j - sum_k dp_k
        // p_k), 0 beyond the diagonal; sum_k dp_k p_k = sum_k dp'_k p'_k.
        const float* A = drop ? dpp + gh * T * T : P;
        for (int64_t r = 0; r < T; ++r) {
          float* d = dS.data() + r * T;
          const float *p = P + r * T, *pd = A + r * T;
          const int64_t visible = r + 1;
          const float dot = vec::dot(d, pd, visible);
          if (drop)
            for (int64_t j = 0; j < visible; ++j)
              d[j] = c * p[j] * ((pd[j] != 0.0f ? d[j] * keep : 0.0f) - dot);
          else
            for (int64_t j = 0; j < visible; ++j) d[j] = c * p[j] * (d[j] - dot);
          std::fill(d + visible, d + T, 0.0f);
        }
        // dq = dS K; dk += dSᵀ Q, dv += P'ᵀ dO (dSᵀ and P'ᵀ are zero below the diagonal).
        smallGemm(T, hd, T, {dS.data(), T, 1}, kh, K.st, dQ.at(g, h), dQ.st, false, CausalSkip::KPrefix);
        smallGemm(T, hd, T, {dS.data(), 1, T}, qh, Q.st, dkh, dK.st, accumulate, CausalSkip::KSuffix);
        smallGemm(T, hd, T, {A, 1, T}, dO, ldo, dvh, dV.st, accumulate, CausalSkip::KSuffix);
      }
    }
  });
}

void saveForBackward(torch::autograd::AutogradContext* ctx, const AttentionSaved& a, double scale) {
  ctx->saved_data["scale"] = scale;
  ctx->saved_data["keep_scale"] = double(a.keepScale);
}

struct FusedCausalAttentionFn : torch::autograd::Function<FusedCausalAttentionFn> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& q,
                               const torch::Tensor& k, const torch::Tensor& v, double scale, double dropout,
                               bool training) {
    const Shape s{q.size(0), q.size(1), k.size(1), q.size(2), q.size(3)};
    auto a = attentionForward(headView(q), headView(k), headView(v), s, q.options().requires_grad(false),
                              scale, dropout, training);
    ctx->save_for_backward({q, k, v, a.probs, a.dropped});
    saveForBackward(ctx, a, scale);
    return a.out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &q = saved[0], &k = saved[1], &v = saved[2];
    const Shape s{q.size(0), q.size(1), k.size(1), q.size(2), q.size(3)};
    auto dq = torch::empty({s.G, s.H, s.T, s.hd}, q.options());
    auto dk = torch::empty({s.G, s.Hkv, s.T, s.hd}, q.options());
    auto dv = torch::empty({s.G, s.Hkv, s.T, s.hd}, q.options());
    attentionBackward(headView(q), headView(k), headView(v), s, saved[3], saved[4],
                      float(ctx->saved_data["keep_scale"].toDouble()),
                      float(ctx->saved_data["scale"].toDouble()), grads[0].contiguous(), headGrad(dq),
                      headGrad(dk), headGrad(dv));
    return {dq, dk, dv, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

// The heads of a packed projection [G, T, width]: q heads from column 0, then the key heads, then
// the value heads (any further columns belong to someone else, e.g. an attention gate).
HeadView packedHeads(const torch::Tensor& proj, int64_t firstColumn, int64_t hd) {
  return {proj.data_ptr<float>() + firstColumn, proj.stride(0), hd, proj.stride(1)};
}

// The packed variant: the projection's gradient is written in place of the three narrow() views'
// zero-filled gradients and their sums.
struct PackedCausalAttentionFn : torch::autograd::Function<PackedCausalAttentionFn> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& proj,
                               int64_t heads, int64_t kvHeads, int64_t hd, double scale, double dropout,
                               bool training) {
    const Shape s{proj.size(0), heads, kvHeads, proj.size(1), hd};
    auto a = attentionForward(packedHeads(proj, 0, hd), packedHeads(proj, heads * hd, hd),
                              packedHeads(proj, (heads + kvHeads) * hd, hd), s,
                              proj.options().requires_grad(false), scale, dropout, training);
    ctx->save_for_backward({proj, a.probs, a.dropped});
    saveForBackward(ctx, a, scale);
    ctx->saved_data["kv_heads"] = kvHeads;
    ctx->saved_data["heads"] = heads;
    ctx->saved_data["head_dim"] = hd;
    return a.out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& proj = saved[0];
    const int64_t H = ctx->saved_data["heads"].toInt(), Hkv = ctx->saved_data["kv_heads"].toInt(),
                  hd = ctx->saved_data["head_dim"].toInt(), used = (H + 2 * Hkv) * hd;
    const Shape s{proj.size(0), H, Hkv, proj.size(1), hd};
    auto dproj = torch::empty_like(proj);
    if (proj.size(2) > used) dproj.narrow(2, used, proj.size(2) - used).zero_();
    float* dp = dproj.data_ptr<float>();
    const auto at = [&](int64_t column) {
      return HeadGrad{dp + column, dproj.stride(0), hd, dproj.stride(1)};
    };
    attentionBackward(packedHeads(proj, 0, hd), packedHeads(proj, H * hd, hd),
                      packedHeads(proj, (H + Hkv) * hd, hd), s, saved[1], saved[2],
                      float(ctx->saved_data["keep_scale"].toDouble()),
                      float(ctx->saved_data["scale"].toDouble()), grads[0].contiguous(), at(0), at(H * hd),
                      at((H + Hkv) * hd));
    return {dproj,           torch::Tensor(), torch::Tensor(), torch::Tensor(),
            torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};
}  // namespace

bool fusedAttentionSupported(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  for (const auto* t : {&q, &k, &v})
    if (!t->is_cpu() || t->scalar_type() != torch::kFloat || t->dim() != 4) return false;
  return k.sizes() == v.sizes() && q.size(0) == k.size(0) && q.size(2) == k.size(2) &&
         q.size(3) == k.size(3) && k.size(1) > 0 && q.size(1) % k.size(1) == 0;
}

torch::Tensor fusedCausalAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                   double scale, double dropout, bool training) {
  TORCH_CHECK(fusedAttentionSupported(q, k, v), "fusedCausalAttention: unsupported tensors ", q.sizes(), " ",
              k.sizes(), " ", v.sizes());
  // The kernels read rows through stride(2); the last dimension must be dense.
  const auto dense = [](const torch::Tensor& t) { return t.stride(3) == 1 ? t : t.contiguous(); };
  return FusedCausalAttentionFn::apply(dense(q), dense(k), dense(v), scale, dropout, training);
}

torch::Tensor fusedCausalAttentionPacked(const torch::Tensor& proj, int64_t heads, int64_t kvHeads,
                                         int64_t headDim, double scale, double dropout, bool training) {
  TORCH_CHECK(proj.is_cpu() && proj.scalar_type() == torch::kFloat && proj.dim() == 3 && kvHeads > 0 &&
                  heads % kvHeads == 0 && proj.size(2) >= (heads + 2 * kvHeads) * headDim,
              "fusedCausalAttentionPacked: unsupported projection ", proj.sizes());
  return PackedCausalAttentionFn::apply(proj.contiguous(), heads, kvHeads, headDim, scale, dropout, training);
}

}  // namespace moelab
