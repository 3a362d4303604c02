#include "model/SmallBatchedMatmul.h"

#include <ATen/Parallel.h>

#include <vector>

#include "model/SmallGemm.h"

namespace moelab {
namespace {

bool fastPath(const torch::Tensor& a, const torch::Tensor& b) {
  return a.device().is_cpu() && b.device().is_cpu() && a.scalar_type() == torch::kFloat &&
         b.scalar_type() == torch::kFloat && a.dim() == 3 && b.dim() == 3;
}

torch::Tensor bmmOf(const torch::Tensor& a, bool ta, const torch::Tensor& b, bool tb) {
  return torch::bmm(ta ? a.transpose(1, 2) : a, tb ? b.transpose(1, 2) : b);
}

// op(a[i]) · op(b[i]) for contiguous a, b; op = transpose when its flag is set.
torch::Tensor gemmBatch(const torch::Tensor& a, bool ta, const torch::Tensor& b, bool tb) {
  const int64_t batch = a.size(0), M = ta ? a.size(2) : a.size(1), K = ta ? a.size(1) : a.size(2);
  const int64_t N = tb ? b.size(1) : b.size(2);
  TORCH_CHECK((tb ? b.size(2) : b.size(1)) == K && b.size(0) == batch, "smallBatchedMatmul: shapes ",
              a.sizes(), " and ", b.sizes(), " do not multiply");
  auto c = torch::empty({batch, M, N}, a.options());
  const float *ap = a.data_ptr<float>(), *bp = b.data_ptr<float>();
  float* cp = c.data_ptr<float>();
  const int64_t lda = a.size(2), sa = a.size(1) * a.size(2), sb = b.size(1) * b.size(2);
  at::parallel_for(0, batch, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> bT(tb ? K * N : 0);  // smallGemm's right operand is row-major [K, N]
    for (int64_t i = begin; i < end; ++i) {
      const float* bi = bp + i * sb;
      if (tb) {
        transposeInto(bi, K, N, K, bT.data());
        bi = bT.data();
      }
      const GemmLhs lhs = ta ? GemmLhs{ap + i * sa, 1, lda} : GemmLhs{ap + i * sa, lda, 1};
      smallGemm(M, N, K, lhs, bi, N, cp + i * M * N, N, false);
    }
  });
  return c;
}

struct SmallBatchedMatmulFn : torch::autograd::Function<SmallBatchedMatmulFn> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& a,
                               const torch::Tensor& b, bool transposeB) {
    auto ac = a.contiguous(), bc = b.contiguous();
    ctx->save_for_backward({ac, bc});
    ctx->saved_data["tb"] = transposeB;
    return gemmBatch(ac, false, bc, transposeB);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &a = saved[0], &b = saved[1];
    const bool tb = ctx->saved_data["tb"].toBool();
    auto g = grads[0].contiguous();
    // c = a·b:   da = g·bᵀ, db = aᵀ·g.      c = a·bᵀ:  da = g·b,  db = gᵀ·a.
    auto da = gemmBatch(g, false, b, !tb);
    auto db = tb ? gemmBatch(g, true, a, false) : gemmBatch(a, true, g, false);
    return {da, db, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor smallBatchedMatmul(const torch::Tensor& a, const torch::Tensor& b, bool transposeB) {
  if (!fastPath(a, b)) return bmmOf(a, false, b, transposeB);
  return SmallBatchedMatmulFn::apply(a, b, transposeB);
}

}  // namespace moelab
