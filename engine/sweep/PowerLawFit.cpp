#include "sweep/PowerLawFit.h"

#include <array>
#include <cmath>
#include <limits>

namespace moelab {
namespace {

using Mat3 = std::array<std::array<double, 3>, 3>;

bool invert(const Mat3& m, Mat3& out) {
  const double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                     m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                     m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  if (!(std::abs(det) > 1e-300)) return false;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      const int r0 = (j + 1) % 3, r1 = (j + 2) % 3, c0 = (i + 1) % 3, c1 = (i + 2) % 3;
      out[i][j] = (m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]) / det;
    }
  return true;
}

// For a fixed exponent the model is linear in (a, c): ordinary least squares on z = x^-alpha.
double linearFit(const std::vector<double>& z, const std::vector<double>& y, double& a, double& c) {
  const double n = double(z.size());
  double sz = 0, sy = 0, szz = 0, szy = 0;
  for (size_t i = 0; i < z.size(); ++i) {
    sz += z[i];
    sy += y[i];
    szz += z[i] * z[i];
    szy += z[i] * y[i];
  }
  const double den = n * szz - sz * sz;
  if (std::abs(den) < 1e-300) return std::numeric_limits<double>::infinity();
  a = (n * szy - sz * sy) / den;
  c = (sy - a * sz) / n;
  double sse = 0;
  for (size_t i = 0; i < z.size(); ++i) sse += std::pow(y[i] - (a * z[i] + c), 2);
  return sse;
}

}  // namespace

double PowerLawFit::predict(double x) const {
  return a * std::pow(x, -alpha) + c;
}

PowerLawFit fitPowerLaw(const std::vector<double>& x, const std::vector<double>& y) {
  PowerLawFit f;
  f.n = int(x.size());
  if (x.size() != y.size() || x.size() < 3) {
    f.error = "a power law needs at least 3 points (have " + std::to_string(x.size()) + ")";
    return f;
  }
  // x is scaled by its geometric mean so the exponent search is well conditioned.
  double logMean = 0;
  for (double v : x) {
    if (!(v > 0) || !std::isfinite(v)) {
      f.error = "x must be positive";
      return f;
    }
    logMean += std::log(v) / double(x.size());
  }
  const double x0 = std::exp(logMean);
  std::vector<double> xs(x.size()), z(x.size());
  for (size_t i = 0; i < x.size(); ++i) xs[i] = x[i] / x0;
  // Coarse search over the exponent, then Gauss-Newton on (a', alpha, c).
  double bestSse = std::numeric_limits<double>::infinity(), a = 0, alpha = 0, c = 0;
  for (int k = 1; k <= 400; ++k) {
    const double al = 0.005 * k;
    for (size_t i = 0; i < xs.size(); ++i) z[i] = std::pow(xs[i], -al);
    double ta, tc;
    const double sse = linearFit(z, y, ta, tc);
    if (sse < bestSse) bestSse = sse, a = ta, alpha = al, c = tc;
  }
  if (!std::isfinite(bestSse)) {
    f.error = "the points do not determine a power law (all x equal?)";
    return f;
  }
  auto sseAt = [&](double ta, double tal, double tc) {
    double s = 0;
    for (size_t i = 0; i < xs.size(); ++i) s += std::pow(y[i] - (ta * std::pow(xs[i], -tal) + tc), 2);
    return s;
  };
  Mat3 jtj{}, cov{};
  auto normalMatrix = [&](std::array<double, 3>* jtr) {
    jtj = Mat3{};
    if (jtr) *jtr = {0, 0, 0};
    for (size_t i = 0; i < xs.size(); ++i) {
      const double p = std::pow(xs[i], -alpha);
      const std::array<double, 3> j = {p, -a * p * std::log(xs[i]), 1.0};
      const double r = y[i] - (a * p + c);
      for (int u = 0; u < 3; ++u) {
        if (jtr) (*jtr)[u] += j[u] * r;
        for (int v = 0; v < 3; ++v) jtj[u][v] += j[u] * j[v];
      }
    }
  };
  for (int iter = 0; iter < 100; ++iter) {
    std::array<double, 3> jtr;
    normalMatrix(&jtr);
    Mat3 inv;
    if (!invert(jtj, inv)) break;
    std::array<double, 3> step{};
    for (int u = 0; u < 3; ++u)
      for (int v = 0; v < 3; ++v) step[u] += inv[u][v] * jtr[v];
    double t = 1.0, sse = bestSse;
    for (; t > 1e-6; t *= 0.5) {
      sse = sseAt(a + t * step[0], alpha + t * step[1], c + t * step[2]);
      if (sse < bestSse) break;
    }
    if (!(sse < bestSse)) break;
    const double gain = bestSse - sse;
    a += t * step[0], alpha += t * step[1], c += t * step[2];
    bestSse = sse;
    if (gain < 1e-14 * (1 + bestSse)) break;
  }
  normalMatrix(nullptr);
  const bool haveSe = x.size() > 3 && invert(jtj, cov);
  const double s2 = haveSe ? bestSse / double(x.size() - 3) : NAN;
  // Back to unscaled x: a * x^-alpha = a' (x / x0)^-alpha, so a = a' x0^alpha (delta method for its error).
  const double scale = std::pow(x0, alpha);
  f.a = a * scale;
  f.alpha = alpha;
  f.c = c;
  if (haveSe) {
    const std::array<double, 3> g = {scale, a * scale * std::log(x0), 0.0};
    double varA = 0;
    for (int u = 0; u < 3; ++u)
      for (int v = 0; v < 3; ++v) varA += g[u] * cov[u][v] * g[v];
    f.seA = std::sqrt(std::max(0.0, s2 * varA));
    f.seAlpha = std::sqrt(std::max(0.0, s2 * cov[1][1]));
    f.seC = std::sqrt(std::max(0.0, s2 * cov[2][2]));
  } else {
    f.seA = f.seAlpha = f.seC = NAN;
  }
  double mean = 0, sst = 0;
  for (double v : y) mean += v / double(y.size());
  for (size_t i = 0; i < y.size(); ++i) {
    sst += (y[i] - mean) * (y[i] - mean);
    f.residuals.push_back(y[i] - f.predict(x[i]));
  }
  f.r2 = sst > 0 ? 1 - bestSse / sst : 1;
  f.ok = true;
  return f;
}

}  // namespace moelab
