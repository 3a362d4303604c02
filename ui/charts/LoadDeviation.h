#pragma once
#include <QString>
#include <vector>

#include "charts/ColourScale.h"

namespace moelab::ui {

// Expert load drawn against the uniform share: load / uniform - 1 (0 = uniform, +0.5 = 50 % over,
// -1 = idle), on a diverging scale. Shared by the live usage views and the routing profiles.
std::vector<double> deviationFromUniform(const std::vector<double>& load);
// Diverging scale spanning every value of `m` (symmetric around zero).
ColourScale symmetricScale(const std::vector<std::vector<double>>& m);
QString percentVsUniform(double deviation);  // "+12.5 % vs uniform"
extern const QString kDeviationCaption;

}  // namespace moelab::ui
