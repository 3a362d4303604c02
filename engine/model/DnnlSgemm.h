#pragma once
#include <cstdint>

#ifdef MOELAB_HAVE_DNNL
// oneDNN's row-major C API (dnnl.h), declared here: the library comes with LibTorch's Debian
// package, its headers (libdnnl-dev) are not needed for this one function. Called inside ATen's
// parallel loops it runs single-threaded, which is what many small per-head products want.
// C[M,N] = alpha * op(A) op(B) + beta * C, op = transpose for 'T'.
extern "C" int dnnl_sgemm(char transa, char transb, int64_t M, int64_t N, int64_t K, float alpha,
                          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                          int64_t ldc);
#endif
