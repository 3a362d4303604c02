#pragma once
#include <cstdint>

#include "cli/Commands.h"
#include "config/ExperimentConfig.h"

// The commands that train, evaluate or load a model. They live in the engine module
// (moelab-engine.so) with LibTorch, which the command-line front loads only when one of them runs.
namespace moelab::cli {

int trainCommand(const Words& args);
int evalCommand(const Words& args);
int paramsCommand(const Words& args);
int benchCommand(const Words& args);
int exportWeightsCommand(const Words& args);
int profileCommand(const Words& args);
int reassignCommand(const Words& args);
int sweepRunCommand(const Words& args);  // sweep run SPEC | sweep resume ID

// The vocabulary size a config's model will have, loading data only when the tokenizer needs it.
int64_t vocabForConfig(const ExperimentConfig& cfg, const std::string& dataDir);

// train.threads semantics: N > 0 threads, 0 every core.
void setThreads(int64_t threads);

}  // namespace moelab::cli

// The module's entry point (looked up with dlsym): argv = {command, args...}. Prints errors like
// the front does and returns the exit code (2 for bad input).
extern "C" __attribute__((visibility("default"))) int moelab_engine_command(int argc,
                                                                            const char* const* argv);
