#pragma once
#include <string>
#include <vector>

#include "sim/ClusterSpec.h"

namespace moelab::sim {

// How a MoE layer's tokens reach their experts, and how the outputs come back.
//  flat          NCCL-style all-to-all: one copy per (token, expert) pair, one message per peer GPU;
//                small per-peer messages lose efficiency (the cluster's message-size curves).
//  hierarchical  one RDMA copy per (token, destination node), to the GPU with the same local index,
//                which forwards it over NVLink to the token's expert GPUs in that node (one copy per
//                GPU); the two stages pipeline. Combine mirrors it: reduce inside the node, then one
//                RDMA copy back per (token, node). DeepEP's normal kernels.
//  low_latency   direct per-(token, expert) writes (RDMA between nodes, NVLink inside one) with many
//                in flight, so nothing serialises per peer; a kernel floor. DeepEP's low-latency kernels.
enum class DispatchAlgorithm { Flat, Hierarchical, LowLatency };
DispatchAlgorithm parseAlgorithm(const std::string& name);  // throws ConfigError naming comm.algorithm
std::string algorithmName(DispatchAlgorithm a);
std::vector<std::string> algorithmNames();

// Kernel costs of one algorithm. Latency of one collective on a GPU:
//   launchUs + wire latency of one message (NVLink, or NIC + switch hops) + perNodeUs * (nodes - 1)
// and its per-peer overhead: perPeerUs * peers (+ for flat, the message-size inefficiency).
// docs/NETWORK_SIM.md gives the source of every default.
struct AlgorithmCosts {
  double launchUs = 0, perPeerUs = 0, perNodeUs = 0;
  // Achieved fraction of line rate for this algorithm's traffic; 0 = the cluster's message-size
  // curves at the per-peer message size (flat).
  double nicEfficiency = 0, nvlinkEfficiency = 0;
  static AlgorithmCosts defaults(DispatchAlgorithm a, const ClusterSpec& cluster);
};

struct CommSpec {
  DispatchAlgorithm algorithm = DispatchAlgorithm::Flat;
  int maxNodesPerToken = 0;  // routing limit (DeepSeek-V3 style node-limited gating); 0 = none
  AlgorithmCosts costs;
};

// One MoE exchange of one layer: GPU g routes tokens[g] tokens to topK experts each; a
// (token, expert) copy from GPU g lands on GPU h with probability gpuShare[g % S][h], where S =
// gpuShare.size() source groups (one group: every GPU routes alike; several: a routing profile's
// data-parallel shards). Each group's shares sum to 1; picks are independent. reverse = the
// combine direction (the same paths backwards).
struct MoeExchange {
  std::vector<double> tokens;
  std::vector<std::vector<double>> gpuShare;
  int topK = 1;
  double bytesPerCopy = 0;  // one token's payload plus its scales
  bool reverse = false;
};

// Bytes each GPU sends and receives over NVLink and over its NIC in one exchange, and how many
// peers it exchanges messages with on each.
struct ExchangeVolumes {
  std::vector<double> intraSend, intraRecv, interSend, interRecv;
  int intraPeers = 0, interPeers = 0;
  double expertCopiesPerToken = 0;    // = topK
  double nodeCopiesPerToken = 0;      // distinct destination nodes per token (own node included),
  double gpuCopiesPerToken = 0;       // and GPUs: means over all sources' tokens
  double logicalBytesPerGpu = 0;      // mean of tokens x topK x bytes: nccl-tests' per-rank buffer
  double nodeLogicalBytesPerGpu = 0;  // mean of tokens x node copies x bytes: DeepEP's RDMA count
  double gpuLogicalBytesPerGpu = 0;   // mean of tokens x GPU copies x bytes: DeepEP's NVLink count
};

// Node-limited routing: each token picks its experts inside at most `maxNodes` nodes, chosen in
// proportion to the nodes' popularity. Returns per-GPU shares after the limit and, per GPU, the
// probability that a token has at least one expert there (reachGpu) and per node (reachNode).
struct RoutingReach {
  std::vector<double> gpuShare, reachGpu, reachNode;
};
RoutingReach routingReach(const ClusterSpec& c, const std::vector<double>& gpuShare, int topK, int maxNodes);

ExchangeVolumes exchangeVolumes(const ClusterSpec& c, const CommSpec& comm, const MoeExchange& x);
// The same routing at `factor` times the bytes per copy (volumes are linear in it), sends and
// receives swapped when `reverse`: a layer's dispatch, combine and backward share one routing pass.
ExchangeVolumes rescaled(ExchangeVolumes v, double factor, bool reverse);

}  // namespace moelab::sim
