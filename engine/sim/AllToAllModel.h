#pragma once
#include <string>
#include <vector>

#include "sim/ClusterSpec.h"
#include "sim/DispatchAlgorithm.h"

namespace moelab::sim {

// One collective (a dispatch, a combine, or one of their backward passes) of one MoE layer.
struct CollectiveTiming {
  double seconds = 0;                            // completion: the slowest GPU
  std::vector<double> finishSeconds;             // per GPU
  std::vector<double> sentBytes, receivedBytes;  // per GPU, over NVLink and NICs (local copies excluded)
  double intraBytes = 0, interBytes = 0;         // totals moved over NVLink / between nodes
  int slowestGpu = 0;
  std::string bottleneck;  // what bounds the slowest GPU: nvlink | nic | fabric | per_peer | latency
  // The slowest GPU's time, split: bandwidth (its bytes at the links' peak efficiency), per-peer
  // overhead (per-peer costs and, for flat, small-message inefficiency) and latency.
  double bandwidthSeconds = 0, perPeerSeconds = 0, latencySeconds = 0;
  ExchangeVolumes volumes;
};

// Per-GPU NVLink and NIC volumes of the exchange under the chosen algorithm, bounded by link
// bandwidths, NIC sharing and fabric oversubscription (max-min fair fluid sharing), plus per-peer
// and latency terms; completion = the slowest GPU.
CollectiveTiming simulateCollective(const ClusterSpec& cluster, const CommSpec& comm,
                                    const MoeExchange& exchange);
// The same from volumes already routed (exchangeVolumes, rescaled).
CollectiveTiming collectiveTiming(const ClusterSpec& cluster, const CommSpec& comm, ExchangeVolumes volumes);

}  // namespace moelab::sim
