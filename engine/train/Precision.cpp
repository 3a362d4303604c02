#include "train/Precision.h"

#include <ATen/autocast_mode.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "util/Errors.h"

namespace moelab {

Precision trainingPrecision(const ExperimentConfig& cfg) {
  return cfg.json["train"]["precision"].get<std::string>() == "bf16" ? Precision::Bf16 : Precision::Fp32;
}

std::string cpuBf16Support() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    bool amx = false, avx512 = false;
    for (std::string w; words >> w;) {
      amx = amx || w == "amx_bf16";
      avx512 = avx512 || w == "avx512_bf16";
    }
    return amx ? "AMX-BF16" : avx512 ? "AVX-512 BF16" : "";
  }
  return "";
}

void requirePrecisionSupported(const ExperimentConfig& cfg) {
  if (trainingPrecision(cfg) != Precision::Bf16 || !cpuBf16Support().empty()) return;
  const char* allow = std::getenv("MOELAB_ALLOW_EMULATED_BF16");
  if (allow != nullptr && std::string(allow) == "1") return;
  throw UserError(
      "train.precision = bf16 needs a CPU with AVX-512 BF16 or AMX (this one has neither, so bfloat16 "
      "matmuls would be emulated and slower than fp32); use train.precision = fp32, or set "
      "MOELAB_ALLOW_EMULATED_BF16=1 to run it anyway for checking numerics");
}

AutocastScope::AutocastScope(Precision precision) : active_(precision == Precision::Bf16) {
  if (!active_) return;
  wasEnabled_ = at::autocast::is_cpu_enabled();
  previousDtype_ = int(at::autocast::get_autocast_cpu_dtype());
  at::autocast::set_cpu_enabled(true);
  at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // Leaving the outermost scope drops the cached bf16 copies of the weights: the optimizer is about
  // to change the fp32 masters they came from.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_cpu_enabled(wasEnabled_);
  at::autocast::set_autocast_cpu_dtype(at::ScalarType(previousDtype_));
}

}  // namespace moelab
