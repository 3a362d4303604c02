#pragma once
#include <string>

#include "cli/CliArgs.h"
#include "cli/Commands.h"
#include "sweep/SweepSpec.h"

namespace moelab::cli {

// What `sweep` subcommands share between the command-line front (preview, list, show, export) and
// the engine module (run, resume).
CliArgs parseSweepArgs(const Words& words);
// Loads and expands the spec (--name renames it), prints the points as `sweep preview` shows them;
// throws UserError when every point is invalid.
SweepSpec previewSweep(const std::string& specFile, const CliArgs& a, bool json);

}  // namespace moelab::cli
