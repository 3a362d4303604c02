#include "cli/EngineModule.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace fs = std::filesystem;

namespace moelab::cli {

bool runsInEngineModule(const std::string& cmd, const Words& rest) {
  if (cmd == "sweep") return !rest.empty() && (rest[0] == "run" || rest[0] == "resume");
  return cmd == "train" || cmd == "eval" || cmd == "params" || cmd == "bench" || cmd == "export-weights" ||
         cmd == "profile" || cmd == "reassign";
}

std::vector<std::string> engineModuleCandidates() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  const fs::path dir = ec ? fs::current_path() : exe.parent_path();
  return {(dir / "moelab-engine.so").string(),
          (dir.parent_path() / MOELAB_ENGINE_MODULE_DIR / "moelab-engine.so").string()};
}

int runInEngineModule(const std::string& cmd, const Words& rest) {
  // Commands that spend minutes in LibTorch run with passive OpenMP waiting (~20% faster steps on
  // 2 cores); a value the user set is kept. Set before libgomp is loaded with the module.
  const bool trains = cmd == "train" || cmd == "eval" || cmd == "bench" || cmd == "profile" || cmd == "sweep";
  if (trains) setenv("OMP_WAIT_POLICY", "PASSIVE", /*overwrite=*/0);
  std::string path;
  for (const auto& candidate : engineModuleCandidates())
    if (fs::exists(candidate)) {
      path = candidate;
      break;
    }
  const auto candidates = engineModuleCandidates();
  if (path.empty())
    throw std::runtime_error("the training engine module is missing (looked for " + candidates[0] + " and " +
                             candidates[1] + "); `moelab-cli " + cmd +
                             "` needs it: reinstall MoE Lab, or build the moelab-engine target");
  // Kept loaded until exit: LibTorch registers static state that must outlive the command.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) throw std::runtime_error("cannot load the training engine " + path + ": " + dlerror());
  using EntryFn = int (*)(int, const char* const*);
  auto entry = reinterpret_cast<EntryFn>(dlsym(handle, "moelab_engine_command"));
  if (!entry) throw std::runtime_error(path + " is not a MoE Lab engine module (no moelab_engine_command)");
  std::vector<const char*> argv{cmd.c_str()};
  for (const auto& w : rest) argv.push_back(w.c_str());
  return entry(int(argv.size()), argv.data());
}

}  // namespace moelab::cli
