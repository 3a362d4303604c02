#pragma once
#include <string>
#include <vector>

namespace moelab {

// L = a * x^(-alpha) + c fitted by least squares (scaling laws: loss against parameters or
// compute). Standard errors come from the Gauss-Newton covariance s^2 (J^T J)^-1 with
// s^2 = SSE / (n - 3); they need n >= 4 points (with 3 the fit is exact and they are NaN).
struct PowerLawFit {
  bool ok = false;
  std::string error;  // why there is no fit (too few points, non-positive x)
  double a = 0, alpha = 0, c = 0;
  double seA = 0, seAlpha = 0, seC = 0;
  double r2 = 0;
  int n = 0;
  std::vector<double> residuals;  // y - prediction, in input order
  double predict(double x) const;
};

PowerLawFit fitPowerLaw(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace moelab
