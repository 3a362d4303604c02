#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace moelab {

// Self time of one LibTorch operator over the profiled work (time inside it, minus the operators it
// called).
struct OpTime {
  std::string name;  // with the input shapes when profiled by shape, e.g. "aten::mm [1024,256] [256,50304]"
  double selfSeconds = 0;
  int64_t calls = 0;
};

// Where a training step's time goes, from LibTorch's CPU profiler: every operator's self time, and
// the part spent in GEMMs (mm, addmm, bmm, baddbmm, addbmm, addmv, in place or not) against
// everything else.
struct OpProfile {
  double totalSeconds = 0;  // wall time of the profiled work
  double gemmSeconds = 0;   // GEMM self time
  std::vector<OpTime> ops;  // by self time, largest first
};

// Runs `work` under the profiler and aggregates per operator. The profiler adds a little overhead
// per operator call, so time figures come from unprofiled steps and this from separate ones.
// byShape: one entry per operator and input shapes (slower to record, finer to read).
OpProfile profileOps(const std::function<void()>& work, bool byShape = false);
bool isGemmOp(const std::string& name);

}  // namespace moelab
