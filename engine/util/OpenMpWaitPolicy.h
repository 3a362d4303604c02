#pragma once

namespace moelab {

// LibTorch's intra-op pool is GNU OpenMP; its GEMMs run on OpenBLAS's own pthreads. With libgomp's
// default wait policy, OpenMP workers spin for a while after every parallel region and take the
// cores from the OpenBLAS threads of the next GEMM (and the reverse): on a 2-core machine the seed
// step was ~20% slower. libgomp reads OMP_WAIT_POLICY once, when it is loaded, before main() runs,
// so the only way to set it from inside the program is to restart the executable with it set.
//
// If OMP_WAIT_POLICY is unset, sets it to PASSIVE and re-executes /proc/self/exe with the same
// arguments (does not return). If it is already set (by the user, or by the restart), returns at
// once. If the restart fails, prints a warning and returns: correctness does not depend on it.
void restartWithPassiveOpenMpWaiting(char** argv);

// The wait policy this process runs with ("PASSIVE", "ACTIVE", or "default").
const char* openMpWaitPolicy();

}  // namespace moelab
