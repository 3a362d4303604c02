#include "sim/DispatchAlgorithm.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "util/Errors.h"

namespace moelab::sim {
namespace {
// Kernel constants (docs/NETWORK_SIM.md, "Latency and kernel constants", gives each one's source).
constexpr double kFlatLaunchUs = 3, kFlatPerPeerUs = 0.69, kFlatPerNodeUs = 0.67;
constexpr double kHierarchicalLaunchUs = 10, kHierarchicalPerPeerUs = 0, kHierarchicalPerNodeUs = 0.67;
constexpr double kHierarchicalNicEfficiency = 0.87, kHierarchicalNvlinkEfficiency = 0.67;
constexpr double kLowLatencyLaunchUs = 30.4, kLowLatencyPerPeerUs = 0.02, kLowLatencyNicEfficiency = 0.97;
}  // namespace

DispatchAlgorithm parseAlgorithm(const std::string& name) {
  if (name == "flat") return DispatchAlgorithm::Flat;
  if (name == "hierarchical") return DispatchAlgorithm::Hierarchical;
  if (name == "low_latency") return DispatchAlgorithm::LowLatency;
  throw ConfigError("comm.algorithm: expected one of flat|hierarchical|low_latency, got \"" + name + "\"");
}

std::string algorithmName(DispatchAlgorithm a) {
  switch (a) {
    case DispatchAlgorithm::Hierarchical:
      return "hierarchical";
    case DispatchAlgorithm::LowLatency:
      return "low_latency";
    default:
      return "flat";
  }
}

std::vector<std::string> algorithmNames() {
  return {"flat", "hierarchical", "low_latency"};
}

AlgorithmCosts AlgorithmCosts::defaults(DispatchAlgorithm a, const ClusterSpec& c) {
  // Constants and their sources: docs/NETWORK_SIM.md, "Latency and kernel constants".
  // {launch, per peer, per node, NIC efficiency (0 = message-size curve), NVLink efficiency}
  switch (a) {
    case DispatchAlgorithm::Hierarchical:  // a chunked two-stage pipeline: one large message per node
      return {kHierarchicalLaunchUs, kHierarchicalPerPeerUs, kHierarchicalPerNodeUs,
              kHierarchicalNicEfficiency, kHierarchicalNvlinkEfficiency};
    case DispatchAlgorithm::LowLatency:  // GPU-initiated writes (IBGDA): peers proceed in parallel
      return {kLowLatencyLaunchUs, kLowLatencyPerPeerUs, 0, kLowLatencyNicEfficiency,
              c.intraEfficiency.peak()};
    default:  // NCCL grouped send/recv: every peer a connection progressed by the proxy thread
      return {kFlatLaunchUs, kFlatPerPeerUs, kFlatPerNodeUs, 0, 0};
  }
}

RoutingReach routingReach(const ClusterSpec& c, const std::vector<double>& share, int k, int maxNodes) {
  const int G = c.gpus(), gpn = c.gpusPerNode, N = c.nodes;
  std::vector<double> nodeShare(size_t(N), 0.0);
  for (int g = 0; g < G; ++g) nodeShare[size_t(g / gpn)] += share[size_t(g)];
  // q[n]: probability that node n is among a token's allowed nodes; popular nodes first, capped
  // at 1, summing to maxNodes (water-filling on q = min(1, lambda * share)).
  std::vector<double> q(size_t(N), 1.0);
  if (maxNodes > 0 && maxNodes < N) {
    double lo = 0, hi = 1e12;
    for (int it = 0; it < 100; ++it) {
      double mid = 0.5 * (lo + hi), sum = 0;
      for (double s : nodeShare) sum += std::min(1.0, mid * s);
      (sum < maxNodes ? lo : hi) = mid;
    }
    for (int n = 0; n < N; ++n) q[size_t(n)] = std::min(1.0, hi * nodeShare[size_t(n)]);
  }
  double selected = 0;  // expected popularity of a token's allowed nodes
  for (int n = 0; n < N; ++n) selected += q[size_t(n)] * nodeShare[size_t(n)];
  if (selected <= 0) selected = 1;
  RoutingReach r;
  r.gpuShare.resize(size_t(G));
  r.reachGpu.resize(size_t(G));
  r.reachNode.assign(size_t(N), 0.0);
  // 1 - (1 - p)^k by squaring: this runs for every GPU of every exchange.
  auto atLeastOne = [k](double p) {
    if (p <= 0) return 0.0;  // a GPU without experts (most of them when GPUs outnumber experts)
    double base = 1.0 - std::min(1.0, p), power = 1.0;
    for (int e = k; e > 0; e >>= 1, base *= base)
      if (e & 1) power *= base;
    return 1.0 - power;
  };
  for (int g = 0; g < G; ++g) {
    const double qn = q[size_t(g / gpn)];
    r.gpuShare[size_t(g)] = qn * share[size_t(g)] / selected;
    r.reachGpu[size_t(g)] = qn * atLeastOne(share[size_t(g)] / selected);
  }
  for (int n = 0; n < N; ++n)
    r.reachNode[size_t(n)] = q[size_t(n)] * atLeastOne(nodeShare[size_t(n)] / selected);
  return r;
}

ExchangeVolumes exchangeVolumes(const ClusterSpec& c, const CommSpec& comm, const MoeExchange& x) {
  const int G = c.gpus(), gpn = c.gpusPerNode, N = c.nodes, S = int(x.gpuShare.size());
  if (S == 0) throw UserError("all-to-all: no expert shares to route by");
  const double b = x.bytesPerCopy, k = double(x.topK);
  // Per source group s (GPUs g with g % S == s): where its copies land, and its tokens per node
  // and per local GPU index. Receives sum over the groups, so the cost is O(S x G).
  struct Source {
    RoutingReach reach;
    std::vector<double> nodeTokens, nodeShare, nodeReachGpu, indexTokens;
    double total = 0, nodeCopies = 0;
  };
  std::vector<Source> src(static_cast<size_t>(S));
  for (int s = 0; s < S; ++s) {
    Source& q = src[size_t(s)];
    q.reach = routingReach(c, x.gpuShare[size_t(s)], x.topK, comm.maxNodesPerToken);
    q.nodeTokens.assign(size_t(N), 0.0);
    q.nodeShare.assign(size_t(N), 0.0);
    q.nodeReachGpu.assign(size_t(N), 0.0);
    q.indexTokens.assign(size_t(gpn), 0.0);
    for (int g = 0; g < G; ++g) {
      q.nodeShare[size_t(g / gpn)] += q.reach.gpuShare[size_t(g)];
      q.nodeReachGpu[size_t(g / gpn)] += q.reach.reachGpu[size_t(g)];
    }
    q.nodeCopies = std::accumulate(q.reach.reachNode.begin(), q.reach.reachNode.end(), 0.0);
  }
  for (int g = 0; g < G; ++g) {
    Source& q = src[size_t(g % S)];
    const double t = x.tokens[size_t(g)];
    q.nodeTokens[size_t(g / gpn)] += t;
    q.indexTokens[size_t(g % gpn)] += t;
    q.total += t;
  }
  ExchangeVolumes v;
  for (auto* vec : {&v.intraSend, &v.intraRecv, &v.interSend, &v.interRecv}) vec->assign(size_t(G), 0.0);
  const bool hierarchical = comm.algorithm == DispatchAlgorithm::Hierarchical;
  // Sends: each GPU by its own source's shares. Receives: every source's contribution, summed
  // source by source (contiguous, no divisions in the inner loops), then a GPU's own tokens out.
  for (int g = 0; g < G; ++g) {
    const size_t n = size_t(g / gpn);
    const Source& own = src[size_t(g % S)];
    const double t = x.tokens[size_t(g)];
    if (hierarchical) {
      // Stage 1: token -> same-index GPU of each reached node. Stage 2: that GPU -> expert GPUs.
      v.interSend[size_t(g)] = t * b * (own.nodeCopies - own.reach.reachNode[n]);
      v.interRecv[size_t(g)] = -b * own.reach.reachNode[n] * t;
    } else {
      // One copy per (token, expert): GPU g sends t * k * share[h] copies to GPU h.
      const double s0 = own.reach.gpuShare[size_t(g)];
      v.intraSend[size_t(g)] = t * k * b * std::max(0.0, own.nodeShare[n] - s0);
      v.interSend[size_t(g)] = t * k * b * std::max(0.0, 1.0 - own.nodeShare[n]);
      v.intraRecv[size_t(g)] = -k * b * s0 * t;
    }
  }
  for (const Source& q : src)
    for (int n = 0, g = 0; n < N; ++n)
      for (int i = 0; i < gpn; ++i, ++g) {
        const size_t h = size_t(g);
        if (hierarchical) {
          v.interRecv[h] += b * q.reach.reachNode[size_t(n)] * q.indexTokens[size_t(i)];
          v.intraSend[h] += b * q.indexTokens[size_t(i)] * (q.nodeReachGpu[size_t(n)] - q.reach.reachGpu[h]);
          v.intraRecv[h] += b * q.reach.reachGpu[h] * (q.total - q.indexTokens[size_t(i)]);
        } else {
          const double copies = k * b * q.reach.gpuShare[h];
          v.intraRecv[h] += copies * q.nodeTokens[size_t(n)];
          v.interRecv[h] += copies * (q.total - q.nodeTokens[size_t(n)]);
        }
      }
  for (auto* vec : {&v.intraSend, &v.intraRecv, &v.interRecv})  // rounding below zero
    for (double& bytes : *vec) bytes = std::max(0.0, bytes);
  v.interPeers = hierarchical ? N - 1 : G - gpn;
  v.intraPeers = gpn - 1;
  if (x.reverse) {
    std::swap(v.intraSend, v.intraRecv);
    std::swap(v.interSend, v.interRecv);
  }
  double total = 0, nodeCopies = 0, gpuCopies = 0;  // token-weighted over the sources
  for (const Source& q : src) {
    total += q.total;
    nodeCopies += q.total * q.nodeCopies;
    gpuCopies += q.total * std::accumulate(q.reach.reachGpu.begin(), q.reach.reachGpu.end(), 0.0);
  }
  if (total > 0) nodeCopies /= total, gpuCopies /= total;
  v.expertCopiesPerToken = k;
  v.nodeCopiesPerToken = nodeCopies;
  v.gpuCopiesPerToken = gpuCopies;
  v.gpuLogicalBytesPerGpu = total * gpuCopies * b / double(G);
  v.logicalBytesPerGpu = total * k * b / double(G);
  v.nodeLogicalBytesPerGpu = total * nodeCopies * b / double(G);
  return v;
}

ExchangeVolumes rescaled(ExchangeVolumes v, double factor, bool reverse) {
  for (auto* vec : {&v.intraSend, &v.intraRecv, &v.interSend, &v.interRecv})
    for (double& bytes : *vec) bytes *= factor;
  for (double* bytes : {&v.logicalBytesPerGpu, &v.nodeLogicalBytesPerGpu, &v.gpuLogicalBytesPerGpu})
    *bytes *= factor;
  if (reverse) {
    std::swap(v.intraSend, v.intraRecv);
    std::swap(v.interSend, v.interRecv);
  }
  return v;
}

}  // namespace moelab::sim
