#pragma once
#include <string>

namespace moelab::cli {

// The full usage text (`moelab-cli --help`) and its footer; CliMain.cpp owns them.
const char* usageText();
const char* usageFooter();

// Generated from the usage text and the config schema, so they never drift from the program
// (packaging runs them at build time: `moelab-cli --man`, `moelab-cli --bash-completion`):
std::string manPage();         // moelab-cli(1) in roff
std::string bashCompletion();  // commands, their options, --set keys with their choices, presets

}  // namespace moelab::cli
