#pragma once
#include <string>
#include <vector>

#include "cli/Commands.h"

namespace moelab::cli {

// The experiment, scenario and sweep presets shipped with MoE Lab: experiments/ in the source tree,
// /usr/share/moelab/experiments when installed (sim/ and sweeps/ below it). A CONFIG, SCENARIO or
// SPEC argument that is not a file but names a preset ("quickstart", "seed-default.json") is that
// preset, so an installed moelab-cli trains `moelab-cli train quickstart` from any folder.
std::vector<std::string> presetFolders();  // existing ones, first wins

// `words` = {command, args...}: the file argument replaced by its preset's path where it names one.
void resolvePresetArgument(std::vector<std::string>& words);

// `moelab-cli presets`: every preset by kind, with its path.
int presetsCommand(const Words& args);

}  // namespace moelab::cli
