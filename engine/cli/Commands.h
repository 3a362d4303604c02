#pragma once
#include <string>
#include <vector>

namespace moelab::cli {

using Words = std::vector<std::string>;

// The commands of the command-line front: no LibTorch in them, so they start in milliseconds.
// Each returns the process exit code: 0 ok, 1 runtime failure; bad input throws UserError (2).
int runsCommand(const Words& args);
int metricsCommand(const Words& args);
int dataCommand(const Words& args);
int tokenizeCommand(const Words& args);
int simulateCommand(const Words& args);
int reportCommand(const Words& args);
int sweepCommand(const Words& args);  // preview, list, show, export (run/resume: TorchCommands.h)

// Dispatches argv; commands that train or evaluate are loaded from the engine module (EngineModule.h).
int runCli(int argc, char** argv);

}  // namespace moelab::cli
