#include "sim/AllToAllModel.h"

#include <algorithm>
#include <numeric>

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
  std::vector<double> capacity(size_t(c.nicsPerNode), rate);  // every NIC at its (effective) line rate
  const double fabric = rate * double(c.nicsPerNode) / c.oversubscription;
  capacity.push_back(fabric);
  std::vector<FluidFlow> flows;
  for (int i = 0; i < gpn; ++i)
    flows.push_back({bytes[size_t(node * gpn + i)], {i % c.nicsPerNode, c.nicsPerNode}});
  auto done = fluidCompletionTimes(flows, capacity);
  // Was the fabric the binding constraint? Compare with NIC-only sharing.
  double nicOnly = 0, withFabric = *std::max_element(done.begin(), done.end());
  {
    std::vector<double> cap2(capacity.begin(), capacity.end() - 1);
    std::vector<FluidFlow> f2;
    for (int i = 0; i < gpn; ++i) f2.push_back({bytes[size_t(node * gpn + i)], {i % c.nicsPerNode}});
    auto d2 = fluidCompletionTimes(f2, cap2);
    nicOnly = *std::max_element(d2.begin(), d2.end());
  }
  for (int i = 0; i < gpn; ++i) {
    out[size_t(node * gpn + i)] = done[size_t(i)];
    fabricBound[size_t(node * gpn + i)] = withFabric > nicOnly * (1 + 1e-9);
  }
}

}  // namespace

AllToAllTraffic transposed(const AllToAllTraffic& f, double ratio) {
  const double total = std::accumulate(f.sourceBytes.begin(), f.sourceBytes.end(), 0.0);
  AllToAllTraffic t;
  t.sourceBytes.resize(f.destShare.size());
  t.destShare.resize(f.sourceBytes.size());
  for (size_t d = 0; d < f.destShare.size(); ++d) t.sourceBytes[d] = f.destShare[d] * total * ratio;
  for (size_t s = 0; s < f.sourceBytes.size(); ++s) t.destShare[s] = total > 0 ? f.sourceBytes[s] / total : 0;
  return t;
}

AllToAllTiming simulateAllToAll(const ClusterSpec& c, const AllToAllTraffic& t) {
  const int G = c.gpus(), gpn = c.gpusPerNode, N = c.nodes;
  AllToAllTiming r;
  r.finishSeconds.assign(size_t(G), 0.0);
  r.sentBytes.assign(size_t(G), 0.0);
  r.receivedBytes.assign(size_t(G), 0.0);
  std::vector<double> nodeShare(size_t(N), 0.0), nodeSource(size_t(N), 0.0);
  double totalSource = 0;
  for (int g = 0; g < G; ++g) {
    nodeShare[size_t(g / gpn)] += t.destShare[size_t(g)];
    nodeSource[size_t(g / gpn)] += t.sourceBytes[size_t(g)];
    totalSource += t.sourceBytes[size_t(g)];
  }
  std::vector<double> intraSend(static_cast<size_t>(G)), intraRecv(intraSend), interSend(intraSend),
      interRecv(intraSend);
  for (int g = 0; g < G; ++g) {
    const size_t n = size_t(g / gpn);
    intraSend[size_t(g)] = t.sourceBytes[size_t(g)] * std::max(0.0, nodeShare[n] - t.destShare[size_t(g)]);
    interSend[size_t(g)] = t.sourceBytes[size_t(g)] * std::max(0.0, 1.0 - nodeShare[n]);
    intraRecv[size_t(g)] = t.destShare[size_t(g)] * std::max(0.0, nodeSource[n] - t.sourceBytes[size_t(g)]);
    interRecv[size_t(g)] = t.destShare[size_t(g)] * std::max(0.0, totalSource - nodeSource[n]);
    r.sentBytes[size_t(g)] = intraSend[size_t(g)] + interSend[size_t(g)];
    r.receivedBytes[size_t(g)] = intraRecv[size_t(g)] + interRecv[size_t(g)];
    r.intraBytes += intraSend[size_t(g)];
    r.interBytes += interSend[size_t(g)];
  }
  // Efficiency from the typical per-peer message size of each port class.
  const double intraMsg = gpn > 1 ? r.intraBytes / double(G) / double(gpn - 1) : 0;
  const double interMsg = N > 1 ? r.interBytes / double(G) / double(G - gpn) : 0;
  const double intraRate = c.intraGBps * 1e9 * c.intraEfficiency.at(std::max(intraMsg, 1.0));
  const double nicRate = c.nicGBps() * 1e9 * c.nicEfficiency.at(std::max(interMsg, 1.0));

  std::vector<double> sendT(size_t(G), 0.0), recvT(size_t(G), 0.0);
  std::vector<char> sendFabric(size_t(G), 0), recvFabric(size_t(G), 0);
  if (N > 1)
    for (int n = 0; n < N; ++n) {
      nodeInterTimes(c, interSend, n, nicRate, sendT, sendFabric);
      nodeInterTimes(c, interRecv, n, nicRate, recvT, recvFabric);
    }
  const double interLatency = (c.interLatencyUs + c.switchHops * c.hopDelayUs) * 1e-6;
  for (int g = 0; g < G; ++g) {
    double intra = std::max(intraSend[size_t(g)], intraRecv[size_t(g)]) / intraRate;
    double inter = std::max(sendT[size_t(g)], recvT[size_t(g)]);
    double latency = (intraSend[size_t(g)] + intraRecv[size_t(g)] > 0 ? c.intraLatencyUs * 1e-6 : 0) +
                     (interSend[size_t(g)] + interRecv[size_t(g)] > 0 ? interLatency : 0);
    r.finishSeconds[size_t(g)] = std::max(intra, inter) + latency;
    if (r.finishSeconds[size_t(g)] > r.seconds) {
      r.seconds = r.finishSeconds[size_t(g)];
      r.slowestGpu = g;
      r.latencySeconds = latency;
      bool fabric = inter > intra && (sendFabric[size_t(g)] || recvFabric[size_t(g)]);
      r.bottleneck = latency > std::max(intra, inter) ? "latency"
                     : inter > intra                  ? (fabric ? "fabric" : "nic")
                                                      : "nvlink";
    }
  }
  return r;
}

}  // namespace moelab::sim
