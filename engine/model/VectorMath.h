#pragma once
#include <cstdint>

// Row kernels for softmax-like passes over fp32 rows, AVX2-vectorised where the CPU has it (chosen
// once at start-up), scalar otherwise. Used where LibTorch would make several passes and
// temporaries: the LM-head cross-entropy, attention's causal softmax, GELU.
namespace moelab::vec {

// The largest element; NaN when any element is NaN.
float maxOf(const float* x, int64_t n);

// sum_j exp(scale * (x_j - shift)), for rows where scale * (x_j - shift) <= 0.
float sumExp(const float* x, int64_t n, float shift, float scale);

// out_j = exp(scale * (x_j - shift)) * factor, same domain as sumExp. out may alias x.
void expInto(const float* x, float* out, int64_t n, float shift, float scale, float factor);

// Whether this CPU runs the AVX2 + FMA kernels (here, in SmallGemm and GeluDropout). Safe to call
// from static initialisers.
bool hasAvx2Fma();

// sum_j a_j b_j.
float dot(const float* a, const float* b, int64_t n);

// x_j += y_j.
void addInto(float* x, const float* y, int64_t n);

// GELU (the exact, erf form): out_j = x_j Phi(x_j). out may alias x.
void geluInto(const float* x, float* out, int64_t n);

// dx_j = dy_j GELU'(x_j) = dy_j (Phi(x_j) + x_j phi(x_j)). dx may alias dy.
void geluGradInto(const float* x, const float* dy, float* dx, int64_t n);

}  // namespace moelab::vec
