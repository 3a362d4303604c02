#include "util/BuildInfo.h"

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <vector>

#include "MoelabBuildInfo.h"  // generated: MOELAB_VERSION, MOELAB_TORCH_VERSION (cmake/BuildInfo.cmake)

extern const char* moelabGitCommit;  // generated each build (MoelabGitCommit.cpp)

namespace moelab::buildinfo {

const char* version() {
  return MOELAB_VERSION;
}
const char* gitCommit() {
  return moelabGitCommit;
}
const char* torchVersion() {
  return MOELAB_TORCH_VERSION;
}

// The file the dynamic loader resolves libblas.so.3 to (Debian's alternatives pick the
// implementation), found without loading it: loading OpenBLAS starts its thread pool (~100 ms).
std::string resolvedBlasLibrary() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("LD_LIBRARY_PATH")) {
    std::stringstream list(env);
    for (std::string d; std::getline(list, d, ':');)
      if (!d.empty()) dirs.push_back(d);
  }
  for (const char* d : {"/usr/local/lib", "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu",
                        "/usr/lib/aarch64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib"})
    dirs.push_back(d);
  for (const auto& d : dirs) {
    std::error_code ec;
    const auto path = std::filesystem::canonical(std::filesystem::path(d) / "libblas.so.3", ec);
    if (!ec) return path.string();
  }
  return {};
}

BlasInfo blas() {
  BlasInfo info;
  info.library = resolvedBlasLibrary();
  const std::string& lib = info.library;
  const auto has = [&](const char* s) { return lib.find(s) != std::string::npos; };
  const std::string variant = has("pthread")  ? " (pthread)"
                              : has("openmp") ? " (OpenMP)"
                              : has("serial") ? " (serial)"
                                              : "";
  if (lib.empty())
    info.name = "unknown (libblas.so.3 not found)";
  else if (has("openblas"))
    info.name = "OpenBLAS" + variant;
  else if (has("blis"))
    info.name = "BLIS" + variant;
  else if (has("mkl"))
    info.name = "Intel MKL";
  else if (has("atlas"))
    info.name = "ATLAS";
  else if (has("/blas/") || has("netlib")) {
    info.name = "reference BLAS (netlib)";
    info.slow = true;
  } else
    info.name = "unrecognised BLAS";
  return info;
}

std::string versionText(const std::string& program) {
  const BlasInfo b = blas();
  std::string out = program + " " + version() + " (commit " + gitCommit() + ")\n";
  out += std::string("LibTorch ") + torchVersion() + "\n";
  out += "BLAS " + b.name + (b.library.empty() ? "" : " at " + b.library) + "\n";
  if (b.slow)
    out +=
        "warning: this is the unoptimised reference BLAS; training steps take ~20x longer. Install an "
        "optimised one (Debian: apt install libopenblas0-pthread) and it is used at once.\n";
  return out;
}

}  // namespace moelab::buildinfo
