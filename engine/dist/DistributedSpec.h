#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace moelab {

// Where this process sits in a distributed job, in torchrun's convention: RANK, WORLD_SIZE,
// LOCAL_RANK, MASTER_ADDR, MASTER_PORT. No LibTorch: the launcher and the CLI front read it too.
struct DistributedSpec {
  int rank = 0, worldSize = 1, localRank = 0;
  std::string masterAddr = "127.0.0.1";
  int masterPort = 29500;
  // A collective that waits longer than this fails (a rank that hangs; a dead one is seen at once);
  // seconds. Also bounds the start-up, where the ranks wait for rank 0's data and database.
  double timeoutSeconds = 300;
  std::string backend = "gloo";  // gloo | nccl
  // The launcher's folder for this job (run id, each rank's error); empty when started by hand.
  std::string launchDir;

  // The spec in the environment when WORLD_SIZE is set (by `train --nproc` or by torchrun);
  // nullopt otherwise. Throws UserError naming the variable when one is malformed or missing.
  static std::optional<DistributedSpec> fromEnvironment();
  bool isLeader() const { return rank == 0; }
};

// The environment variable names, shared by the launcher and fromEnvironment().
namespace distenv {
inline constexpr const char* kRank = "RANK";
inline constexpr const char* kWorldSize = "WORLD_SIZE";
inline constexpr const char* kLocalRank = "LOCAL_RANK";
inline constexpr const char* kMasterAddr = "MASTER_ADDR";
inline constexpr const char* kMasterPort = "MASTER_PORT";
inline constexpr const char* kTimeout = "MOELAB_DIST_TIMEOUT";
inline constexpr const char* kBackend = "MOELAB_DIST_BACKEND";
inline constexpr const char* kLaunchDir = "MOELAB_LAUNCH_DIR";
}  // namespace distenv

}  // namespace moelab
