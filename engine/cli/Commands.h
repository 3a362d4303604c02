#pragma once
#include <string>
#include <vector>

namespace moelab::cli {

using Words = std::vector<std::string>;

// Each returns the process exit code: 0 ok, 1 runtime failure; bad input throws UserError (2).
int trainCommand(const Words& args);
int evalCommand(const Words& args);
int paramsCommand(const Words& args);
int benchCommand(const Words& args);
int runsCommand(const Words& args);
int metricsCommand(const Words& args);
int exportWeightsCommand(const Words& args);
int tokenizeCommand(const Words& args);
int dataCommand(const Words& args);
int simulateCommand(const Words& args);
int reportCommand(const Words& args);
int sweepCommand(const Words& args);
int profileCommand(const Words& args);
int reassignCommand(const Words& args);

int runCli(int argc, char** argv);

}  // namespace moelab::cli
