#include "sim/AllToAllModel.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "sim/MaxMinFair.h"

namespace moelab::sim {
namespace {

// Completion time of each GPU's inter-node volume in one direction on one node. Dedicated NICs and
// no oversubscription need no solver; otherwise flows share NIC and uplink links max-min fairly.
void nodeInterTimes(const ClusterSpec& c, const std::vector<double>& bytes, int node, double rate,
                    std::vector<double>& out, std::vector<char>& fabricBound) {
  const int gpn = c.gpusPerNode;
  const bool shared = c.nicsPerNode < gpn || c.oversubscription > 1.0;
  if (!shared) {
    for (int i = 0; i < gpn; ++i) out[size_t(node * gpn + i)] = bytes[size_t(node * gpn + i)] / rate;
    return;
  }
  // Links: one per NIC, then the node's share of the inter-node fabric.
  std::vector<double> capacity(size_t(c.nicsPerNode), rate);
  capacity.push_back(rate * double(c.nicsPerNode) / c.oversubscription);
  std::vector<FluidFlow> flows, nicOnlyFlows;
  for (int i = 0; i < gpn; ++i) {
    flows.push_back({bytes[size_t(node * gpn + i)], {i % c.nicsPerNode, c.nicsPerNode}});
    nicOnlyFlows.push_back({bytes[size_t(node * gpn + i)], {i % c.nicsPerNode}});
  }
  auto done = fluidCompletionTimes(flows, capacity);
  // Was the fabric the binding constraint? Compare with NIC-only sharing.
  capacity.pop_back();
  auto nicOnly = fluidCompletionTimes(nicOnlyFlows, capacity);
  const bool fabric = *std::max_element(done.begin(), done.end()) >
                      *std::max_element(nicOnly.begin(), nicOnly.end()) * (1 + 1e-9);
  for (int i = 0; i < gpn; ++i) {
    out[size_t(node * gpn + i)] = done[size_t(i)];
    fabricBound[size_t(node * gpn + i)] = fabric;
  }
}

double sum(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

}  // namespace

CollectiveTiming simulateCollective(const ClusterSpec& c, const CommSpec& comm, const MoeExchange& x) {
  return collectiveTiming(c, comm, exchangeVolumes(c, comm, x));
}

CollectiveTiming collectiveTiming(const ClusterSpec& c, const CommSpec& comm, ExchangeVolumes volumes) {
  const int G = c.gpus(), N = c.nodes;
  CollectiveTiming r;
  r.volumes = std::move(volumes);
  const ExchangeVolumes& v = r.volumes;
  r.finishSeconds.assign(size_t(G), 0.0);
  r.sentBytes.resize(size_t(G));
  r.receivedBytes.resize(size_t(G));
  for (int g = 0; g < G; ++g) {
    r.sentBytes[size_t(g)] = v.intraSend[size_t(g)] + v.interSend[size_t(g)];
    r.receivedBytes[size_t(g)] = v.intraRecv[size_t(g)] + v.interRecv[size_t(g)];
  }
  r.intraBytes = sum(v.intraSend);
  r.interBytes = sum(v.interSend);

  // Peak rates, and for flat the extra time its per-peer message size costs (the cluster's
  // message-size curves): time at a curve's efficiency = time at peak x peak / efficiency.
  const AlgorithmCosts& k = comm.costs;
  const double intraPeak = k.nvlinkEfficiency > 0 ? k.nvlinkEfficiency : c.intraEfficiency.peak();
  const double nicPeak = k.nicEfficiency > 0 ? k.nicEfficiency : c.nicEfficiency.peak();
  double intraSlow = 1, nicSlow = 1;
  if (comm.algorithm == DispatchAlgorithm::Flat) {
    const double intraMsg = v.intraPeers > 0 ? r.intraBytes / double(G) / double(v.intraPeers) : 0;
    const double interMsg = v.interPeers > 0 ? r.interBytes / double(G) / double(v.interPeers) : 0;
    intraSlow = intraPeak / c.intraEfficiency.at(std::max(intraMsg, 1.0));
    nicSlow = nicPeak / c.nicEfficiency.at(std::max(interMsg, 1.0));
  }
  const double intraRate = c.intraGBps * 1e9 * intraPeak, nicRate = c.nicGBps() * 1e9 * nicPeak;
  std::vector<double> sendT(size_t(G), 0.0), recvT(size_t(G), 0.0);
  std::vector<char> sendFabric(size_t(G), 0), recvFabric(size_t(G), 0);
  if (N > 1)
    for (int n = 0; n < N; ++n) {
      nodeInterTimes(c, v.interSend, n, nicRate, sendT, sendFabric);
      nodeInterTimes(c, v.interRecv, n, nicRate, recvT, recvFabric);
    }
  const double interWire = c.interLatencyUs + c.switchHops * c.hopDelayUs;
  const bool twoStage = comm.algorithm == DispatchAlgorithm::Hierarchical;
  for (int g = 0; g < G; ++g) {
    const size_t i = size_t(g);
    const bool intra = v.intraSend[i] + v.intraRecv[i] > 0, inter = v.interSend[i] + v.interRecv[i] > 0;
    if (!intra && !inter) continue;
    const double intraT = std::max(v.intraSend[i], v.intraRecv[i]) / intraRate;
    const double interT = std::max(sendT[i], recvT[i]);
    // NVLink and NIC traffic proceed concurrently (for hierarchical: pipelined stages).
    const bool nicBound = interT * nicSlow > intraT * intraSlow;
    const double bandwidth = nicBound ? interT : intraT;
    const double slowTerm = nicBound ? interT * (nicSlow - 1) : intraT * (intraSlow - 1);
    const int peers = (intra ? v.intraPeers : 0) + (inter ? v.interPeers : 0);
    const double perPeer = slowTerm + k.perPeerUs * 1e-6 * double(peers);
    // One message's wire latency; the two-stage pipeline fills through both links.
    const double wire =
        inter ? (twoStage && intra ? interWire + c.intraLatencyUs : interWire) : c.intraLatencyUs;
    const double latency = (k.launchUs + wire + (inter ? k.perNodeUs * double(N - 1) : 0)) * 1e-6;
    const double t = bandwidth + perPeer + latency;
    r.finishSeconds[i] = t;
    if (t > r.seconds) {
      r.seconds = t;
      r.slowestGpu = g;
      r.bandwidthSeconds = bandwidth;
      r.perPeerSeconds = perPeer;
      r.latencySeconds = latency;
      const bool fabric = nicBound && (sendFabric[i] || recvFabric[i]);
      const double biggest = std::max({bandwidth, perPeer, latency});
      r.bottleneck = biggest == latency   ? "latency"
                     : biggest == perPeer ? "per_peer"
                     : nicBound           ? (fabric ? "fabric" : "nic")
                                          : "nvlink";
    }
  }
  return r;
}

}  // namespace moelab::sim
