#include "dist/DistributedSpec.h"

#include <cstdlib>

#include "util/Errors.h"

namespace moelab {
namespace {
std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

int64_t envInteger(const char* name, int64_t lo, int64_t hi) {
  const std::string v = env(name);
  if (v.empty()) throw UserError(std::string("distributed launch: ") + name + " is not set");
  size_t used = 0;
  int64_t x = 0;
  try {
    x = std::stoll(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || x < lo || x > hi)
    throw UserError(std::string("distributed launch: ") + name + "=" + v + " is not an integer in [" +
                    std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return x;
}
}  // namespace

std::optional<DistributedSpec> DistributedSpec::fromEnvironment() {
  if (env(distenv::kWorldSize).empty()) return std::nullopt;
  DistributedSpec s;
  s.worldSize = int(envInteger(distenv::kWorldSize, 1, 4096));
  s.rank = int(envInteger(distenv::kRank, 0, s.worldSize - 1));
  s.localRank = env(distenv::kLocalRank).empty() ? 0 : int(envInteger(distenv::kLocalRank, 0, 4095));
  if (!env(distenv::kMasterAddr).empty()) s.masterAddr = env(distenv::kMasterAddr);
  s.masterPort = int(envInteger(distenv::kMasterPort, 1, 65535));
  if (!env(distenv::kTimeout).empty()) s.timeoutSeconds = double(envInteger(distenv::kTimeout, 1, 86400));
  if (!env(distenv::kBackend).empty()) s.backend = env(distenv::kBackend);
  s.launchDir = env(distenv::kLaunchDir);
  return s;
}

}  // namespace moelab
