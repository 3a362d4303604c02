#pragma once
#include <string>

// What --version prints, without loading LibTorch: the version and git commit this binary was
// built from (the commit is refreshed on every build, "-dirty" when the tree had changes), the
// LibTorch version it was built against, and the BLAS the dynamic loader resolves libblas.so.3 to.
namespace moelab::buildinfo {

const char* version();       // "0.1.0"
const char* gitCommit();     // "1a2b3c4" or "1a2b3c4-dirty"; "unknown" outside a git checkout
const char* torchVersion();  // "1.13.1"

struct BlasInfo {
  std::string library;  // the resolved file, e.g. /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3
  std::string name;     // "OpenBLAS 0.3.21 (pthread)", "reference BLAS (netlib)", ...
  bool slow = false;    // the unoptimised reference implementation
};
BlasInfo blas();

// The lines `--version` prints (both executables), with a warning line when the BLAS is slow.
std::string versionText(const std::string& program);

}  // namespace moelab::buildinfo
