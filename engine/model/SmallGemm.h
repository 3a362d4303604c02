#pragma once
#include <cstdint>

// Single-threaded fp32 GEMM for the small tiles of attention (one head: T x T scores, T x hd
// values), called inside ATen's parallel loops. Register-blocked AVX2/FMA micro-kernel (6 rows x 16
// columns of C in 12 vector registers) chosen once at start-up, scalar loops otherwise. No set-up
// per call and no packing of A: at T = 128, hd = 32 it runs 2-3x faster than oneDNN's sgemm, whose
// per-call overhead dominates products this small. Knows the causal structure of attention's
// operands so that masked triangles are not multiplied. Torch-free.
namespace moelab {

// The left operand: element (i, p) at data[i * rowStride + p * colStride]. A transposed matrix is
// the same memory with the strides swapped.
struct GemmLhs {
  const float* data;
  int64_t rowStride, colStride;
};

// Which products can be skipped because of a causal mask. Skipping is by whole micro-tiles, so
// some entries beyond the diagonal are still computed (OutputLower) or still read (KPrefix,
// KSuffix); the caller's operands must hold zeros where the mode says they are zero.
enum class CausalSkip {
  None,
  OutputLower,  // only C(i, j) with j <= i is needed; tiles wholly above the diagonal are untouched
  KPrefix,      // A(i, p) = 0 for p > i: row i sums over p <= i
  KSuffix,      // A(i, p) = 0 for p < i: row i sums over p >= i
};

// C[M, N] = A[M, K] · B[K, N] (or C += when accumulate). B and C are row-major with leading
// dimensions ldb and ldc (their last dimension dense).
void smallGemm(int64_t M, int64_t N, int64_t K, GemmLhs a, const float* b, int64_t ldb, float* c, int64_t ldc,
               bool accumulate, CausalSkip skip = CausalSkip::None);

// out[cols, rows] = mᵀ for m [rows, cols] with row stride ld: a right operand of smallGemm from a
// matrix that is stored transposed (attention's Kᵀ, Vᵀ).
void transposeInto(const float* m, int64_t ld, int64_t rows, int64_t cols, float* out);

}  // namespace moelab
