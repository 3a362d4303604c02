#include "model/SmallGemm.h"

#include <immintrin.h>

#include <algorithm>

#include "model/VectorMath.h"

namespace moelab {
namespace {

constexpr int kRows = 6;   // micro-tile rows: 6 x 2 accumulators + 2 B vectors + 1 broadcast
constexpr int kCols = 16;  // micro-tile columns: two 8-float vectors

struct Tile {
  int64_t p0, p1;  // the summation range
  const float* a;  // A(i0, 0)
  int64_t rs, cs;
  const float* b;  // B(0, j0)
  int64_t ldb;
  float* c;  // C(i0, j0)
  int64_t ldc;
  int cols;  // 1..16
  bool accumulate;
};

// One MR x 16 tile of C; Full: all 16 columns present (no masked loads or stores).
template <int MR, bool Full>
__attribute__((target("avx2,fma"))) void tileAvx2(const Tile& t) {
  __m256 acc[MR][2];
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  __m256i mask0 = _mm256_set1_epi32(-1), mask1 = mask0;
  if constexpr (!Full) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    mask0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(t.cols), lane);
    mask1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(t.cols - 8), lane);
  }
  const float* bp = t.b + t.p0 * t.ldb;
  const float* ap = t.a + t.p0 * t.cs;
  for (int64_t p = t.p0; p < t.p1; ++p, bp += t.ldb, ap += t.cs) {
    __m256 b0, b1;
    if constexpr (Full) {
      b0 = _mm256_loadu_ps(bp);
      b1 = _mm256_loadu_ps(bp + 8);
    } else {
      b0 = _mm256_maskload_ps(bp, mask0);
      b1 = _mm256_maskload_ps(bp + 8, mask1);
    }
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      const __m256 ar = _mm256_broadcast_ss(ap + r * t.rs);
      acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) {
    float* cr = t.c + r * t.ldc;
    if constexpr (Full) {
      if (t.accumulate) {
        acc[r][0] = _mm256_add_ps(acc[r][0], _mm256_loadu_ps(cr));
        acc[r][1] = _mm256_add_ps(acc[r][1], _mm256_loadu_ps(cr + 8));
      }
      _mm256_storeu_ps(cr, acc[r][0]);
      _mm256_storeu_ps(cr + 8, acc[r][1]);
    } else {
      if (t.accumulate) {
        acc[r][0] = _mm256_add_ps(acc[r][0], _mm256_maskload_ps(cr, mask0));
        acc[r][1] = _mm256_add_ps(acc[r][1], _mm256_maskload_ps(cr + 8, mask1));
      }
      _mm256_maskstore_ps(cr, mask0, acc[r][0]);
      _mm256_maskstore_ps(cr + 8, mask1, acc[r][1]);
    }
  }
}

template <int MR>
void tileAvx2Any(const Tile& t) {
  if (t.cols == kCols)
    tileAvx2<MR, true>(t);
  else
    tileAvx2<MR, false>(t);
}

void tileScalar(const Tile& t, int rows) {
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < t.cols; ++j) {
      float s = 0.0f;
      for (int64_t p = t.p0; p < t.p1; ++p) s += t.a[r * t.rs + p * t.cs] * t.b[p * t.ldb + j];
      float& out = t.c[r * t.ldc + j];
      out = t.accumulate ? out + s : s;
    }
}

using TileFn = void (*)(const Tile&, int rows);

void tileAvx2Rows(const Tile& t, int rows) {
  switch (rows) {
    case 6:
      return tileAvx2Any<6>(t);
    case 5:
      return tileAvx2Any<5>(t);
    case 4:
      return tileAvx2Any<4>(t);
    case 3:
      return tileAvx2Any<3>(t);
    case 2:
      return tileAvx2Any<2>(t);
    default:
      return tileAvx2Any<1>(t);
  }
}

const TileFn kTile = vec::hasAvx2Fma() ? tileAvx2Rows : tileScalar;

}  // namespace

void transposeInto(const float* m, int64_t ld, int64_t rows, int64_t cols, float* out) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) out[c * rows + r] = m[r * ld + c];
}

void smallGemm(int64_t M, int64_t N, int64_t K, GemmLhs a, const float* b, int64_t ldb, float* c, int64_t ldc,
               bool accumulate, CausalSkip skip) {
  // Column panels outside, row tiles inside: a 16-column panel of B (K x 64 bytes) stays in L1
  // while every row tile of A streams past it.
  for (int64_t j0 = 0; j0 < N; j0 += kCols) {
    for (int64_t i0 = 0; i0 < M; i0 += kRows) {
      const int rows = int(std::min<int64_t>(kRows, M - i0));
      const int64_t lastRow = i0 + rows - 1;
      if (skip == CausalSkip::OutputLower && j0 > lastRow) continue;
      Tile t{0,         K,   a.data + i0 * a.rowStride, a.rowStride, a.colStride,
             b + j0,    ldb, c + i0 * ldc + j0,         ldc,         int(std::min<int64_t>(kCols, N - j0)),
             accumulate};
      if (skip == CausalSkip::KPrefix) t.p1 = std::min(K, lastRow + 1);
      if (skip == CausalSkip::KSuffix) t.p0 = std::min(K, i0);
      kTile(t, rows);
    }
  }
}

}  // namespace moelab
