#pragma once
#include <string>

#include "cli/Commands.h"

namespace moelab::cli {

// The command-line front does not link LibTorch: loading it and its ~290 libraries takes 1.5-2 s,
// which `runs list` or `simulate` should not pay. Commands that train or evaluate are in the engine
// module (moelab-engine.so, TorchCommands.h), loaded here on first use from next to the executable
// (build tree) or from ../lib/<multiarch>/moelab/ (installed).

// Whether `cmd` with these arguments runs in the engine module.
bool runsInEngineModule(const std::string& cmd, const Words& rest);

// Loads the module and runs {cmd, rest...} in it; returns its exit code. For commands that train,
// OMP_WAIT_POLICY is set to PASSIVE first when the user has not set it: libgomp reads it when the
// module loads it (see util/OpenMpWaitPolicy.h). Throws std::runtime_error naming the file when the
// module is missing or cannot be loaded.
int runInEngineModule(const std::string& cmd, const Words& rest);

// Where the module is looked for, first match wins.
std::vector<std::string> engineModuleCandidates();

}  // namespace moelab::cli
