#pragma once
#include <string>
#include <vector>

#include "sim/ClusterSpec.h"

namespace moelab::sim {

// One all-to-all whose traffic matrix is rank one: source s sends sourceBytes[s] in total, a
// fraction destShare[d] of it to GPU d (the shares sum to 1; what a GPU sends to itself moves no
// data). Every MoE dispatch whose routing does not depend on the source GPU has this form, and so
// does its combine (the transpose).
struct AllToAllTraffic {
  std::vector<double> sourceBytes, destShare;
};

struct AllToAllTiming {
  double seconds = 0;                            // completion: the slowest GPU
  std::vector<double> finishSeconds;             // per GPU
  std::vector<double> sentBytes, receivedBytes;  // per GPU, excluding bytes kept locally
  double intraBytes = 0, interBytes = 0;         // moved over NVLink / between nodes
  int slowestGpu = 0;
  std::string bottleneck;     // what bounds the slowest GPU: nvlink | nic | fabric | latency
  double latencySeconds = 0;  // latency part of the slowest GPU's time
};

// Per-GPU send and receive volumes over each port class, bounded by link bandwidths (times the
// size-dependent efficiency), NIC sharing and fabric oversubscription resolved by max-min fair
// fluid sharing, plus latency terms; completion = slowest GPU.
AllToAllTiming simulateAllToAll(const ClusterSpec& cluster, const AllToAllTraffic& traffic);

// The combine (or any reverse exchange) of `forward`, with payload scaled by bytesRatio.
AllToAllTraffic transposed(const AllToAllTraffic& forward, double bytesRatio);

}  // namespace moelab::sim
