#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "cli/CliArgs.h"
#include "cli/Commands.h"
#include "dist/RankLauncher.h"

namespace moelab {
class DistributedContext;
}

namespace moelab::cli {

// The options of a distributed job: --nproc, --nnodes, --node-rank, --master, --backend,
// --dist-timeout (added to a command's value options).
const std::set<std::string>& distributedOptions();

// `command ... --nproc N` (or --nnodes > 1) outside a rank: this node's ranks running the same
// command line with the job's environment and --threads divided among them (the last two args).
// nullopt when the words ask for one process or this process is already a rank.
std::optional<RankLaunch> planLaunch(const std::string& command, const Words& words, const CliArgs& a);

// planLaunch, then starts the ranks, waits, and returns the job's exit code (printing which rank
// failed); -1 when the words ask for one process.
int launchIfDistributed(const std::string& command, const Words& words, const CliArgs& a);

// Inside a rank (WORLD_SIZE set): the rendezvous, or nullptr for a plain process. `body` runs with
// it; an error is left for the other ranks and the launcher before it propagates, and a rank > 0
// that rank 0 declined returns 2 without printing.
int runAsRank(const std::function<int(DistributedContext*)>& body);

}  // namespace moelab::cli
