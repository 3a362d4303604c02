#include "cli/Presets.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace fs = std::filesystem;

namespace moelab::cli {
namespace {

// The preset sub-folder for a command's file argument, and that argument's index in words.
bool presetSlot(const std::vector<std::string>& words, std::string& sub, size_t& index) {
  const std::string& cmd = words[0];
  if ((cmd == "train" || cmd == "params" || cmd == "bench") && words.size() > 1) {
    sub = "", index = 1;
    return true;
  }
  if (cmd == "simulate" && words.size() > 1) {
    sub = "sim", index = 1;
    return true;
  }
  if (cmd == "sweep" && words.size() > 2 && (words[1] == "preview" || words[1] == "run")) {
    sub = "sweeps", index = 2;
    return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> presetFolders() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  std::vector<std::string> out;
  if (ec) return out;
  const fs::path dir = exe.parent_path();
  for (const fs::path& d :
       {dir.parent_path() / "share/moelab/experiments", fs::path("/usr/share/moelab/experiments"),
        dir.parent_path().parent_path() / "experiments"}) {
    const fs::path canonical = fs::weakly_canonical(d, ec);
    if (!ec && fs::is_directory(canonical) &&
        std::find(out.begin(), out.end(), canonical.string()) == out.end())
      out.push_back(canonical.string());
  }
  return out;
}

void resolvePresetArgument(std::vector<std::string>& words) {
  std::string sub;
  size_t index = 0;
  if (!presetSlot(words, sub, index)) return;
  std::string& arg = words[index];
  if (arg.empty() || arg[0] == '-' || arg.find('/') != std::string::npos || fs::exists(arg)) return;
  const std::string file =
      arg.size() > 5 && arg.compare(arg.size() - 5, 5, ".json") == 0 ? arg : arg + ".json";
  for (const auto& folder : presetFolders()) {
    const fs::path candidate = fs::path(folder) / sub / file;
    if (fs::is_regular_file(candidate)) {
      arg = candidate.string();
      return;
    }
  }
}

int presetsCommand(const Words&) {
  const auto folders = presetFolders();
  if (folders.empty()) {
    std::printf(
        "no preset folder found (looked beside the executable and in /usr/share/moelab/experiments)\n");
    return 1;
  }
  for (const auto& [sub, what] :
       {std::pair<std::string, std::string>{"", "experiments (train, params, bench)"},
        {"sim", "scenarios (simulate)"},
        {"sweeps", "sweeps (sweep preview/run)"}}) {
    std::printf("%s:\n", what.c_str());
    std::vector<fs::path> files;
    for (const auto& folder : folders) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(fs::path(folder) / sub, ec))
        if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) std::printf("  %-28s %s\n", f.stem().string().c_str(), f.string().c_str());
  }
  return 0;
}

}  // namespace moelab::cli
