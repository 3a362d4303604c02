#pragma once
#include <string>

#include "config/ExperimentConfig.h"

namespace moelab {

enum class Precision { Fp32, Bf16 };

// train.precision of a validated config.
Precision trainingPrecision(const ExperimentConfig& cfg);

// The CPU's native bfloat16 arithmetic ("AMX-BF16", "AVX-512 BF16"), or "" when it has none
// (then bf16 matmuls are emulated in software, several times slower than fp32).
std::string cpuBf16Support();

// Throws UserError naming train.precision when the config asks for bf16 on a CPU without native
// bf16. MOELAB_ALLOW_EMULATED_BF16=1 lets it run anyway (slow; for checking numerics and tests).
void requirePrecisionSupported(const ExperimentConfig& cfg);

// Runs the forward pass of the scope's thread under CPU autocast to bfloat16 (Bf16), or does
// nothing (Fp32). Weights stay fp32; autocast casts per operation and caches the casts until the
// scope ends.
class AutocastScope {
 public:
  explicit AutocastScope(Precision precision);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false, wasEnabled_ = false;
  int previousDtype_ = 0;
};

}  // namespace moelab
