#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "dist/DistributedSpec.h"

namespace moelab {

// `moelab-cli train|bench --nproc N`: starts this node's ranks as child processes of the same
// executable with torchrun's environment, watches them, and ends the job when one fails: the
// others get `timeoutSeconds` to notice and exit on their own, then are killed. No LibTorch.
struct RankLaunch {
  std::string executable;         // the program each rank runs (normally /proc/self/exe)
  std::vector<std::string> args;  // its arguments, the same for every rank
  int nproc = 1;                  // ranks on this node
  int nnodes = 1, nodeRank = 0;
  std::string masterAddr = "127.0.0.1";
  int masterPort = 0;  // 0: a free loopback port (single node only)
  double timeoutSeconds = 300;
  std::string backend = "gloo";
  std::string dbPath;  // where rank 0 records the run: a failed job's run is marked there
};

struct RankLaunchResult {
  int exitCode = 0;     // 0, 130 (stopped), 2 (a rank refused its input) or 1
  int failedRank = -1;  // the first rank that failed, -1 when none did
  std::string failure;  // "rank 1 (pid 4242) was killed by signal 9 (Killed)"; its own error when it left one
  int64_t runId = 0;    // the run rank 0 recorded, 0 when it created none
};

RankLaunchResult launchRanks(const RankLaunch& launch);

// What a rank's error says when its collective broke because another rank went away
// (DistributedContext's messages): such a rank is the echo of a failure, not its cause.
inline constexpr const char* kCollectiveBroke = "did not complete on rank";

// A TCP port on 127.0.0.1 that was free a moment ago (the store binds it right after).
int freeLoopbackPort();

// For the ranks: what the launcher reads back. No-ops when the spec has no launch folder.
void recordLaunchRun(const DistributedSpec& spec, int64_t runId);
void recordLaunchError(const DistributedSpec& spec, const std::string& message);

}  // namespace moelab
