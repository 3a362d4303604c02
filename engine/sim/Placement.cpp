#include "sim/Placement.h"

#include <algorithm>
#include <numeric>

#include "util/Errors.h"

namespace moelab::sim {

Placement Placement::contiguous(int E, int G) {
  Placement p;
  for (int e = 0; e < E; ++e) p.hosts.push_back({int(int64_t(e) * G / E)});
  return p;
}

Placement Placement::roundRobin(int E, int G) {
  Placement p;
  for (int e = 0; e < E; ++e) p.hosts.push_back({e % G});
  return p;
}

Placement Placement::custom(const std::vector<int>& map, int G) {
  Placement p;
  for (size_t e = 0; e < map.size(); ++e) {
    if (map[e] < 0 || map[e] >= G)
      throw UserError("placement.map[" + std::to_string(e) + "]: expected a GPU index in [0, " +
                      std::to_string(G - 1) + "], got " + std::to_string(map[e]));
    p.hosts.push_back({map[e]});
  }
  return p;
}

Placement Placement::greedyBalanced(const std::vector<double>& load, int G, int gpusPerNode) {
  // Hierarchical longest-processing-time-first with fixed slots (ceil(E/G) experts per GPU): each
  // expert, heaviest first, goes to the least-loaded node with a free slot, then to that node's
  // least-loaded GPU. Balancing GPUs alone can still overload a node's NICs.
  const int E = int(load.size()), slots = (E + G - 1) / G, nodes = std::max(1, G / gpusPerNode);
  std::vector<int> order(static_cast<size_t>(E));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return load[size_t(a)] > load[size_t(b)]; });
  std::vector<double> gpuLoad(size_t(G), 0.0), nodeLoad(size_t(nodes), 0.0);
  std::vector<int> gpuUsed(size_t(G), 0);
  Placement p;
  p.hosts.resize(size_t(E));
  for (int e : order) {
    int bestNode = -1, bestGpu = -1;
    for (int n = 0; n < nodes; ++n) {
      bool free = false;
      for (int g = n * gpusPerNode; g < (n + 1) * gpusPerNode && g < G; ++g)
        free |= gpuUsed[size_t(g)] < slots;
      if (free && (bestNode < 0 || nodeLoad[size_t(n)] < nodeLoad[size_t(bestNode)])) bestNode = n;
    }
    for (int g = bestNode * gpusPerNode; g < (bestNode + 1) * gpusPerNode && g < G; ++g)
      if (gpuUsed[size_t(g)] < slots && (bestGpu < 0 || gpuLoad[size_t(g)] < gpuLoad[size_t(bestGpu)]))
        bestGpu = g;
    p.hosts[size_t(e)] = {bestGpu};
    gpuLoad[size_t(bestGpu)] += load[size_t(e)];
    nodeLoad[size_t(bestNode)] += load[size_t(e)];
    ++gpuUsed[size_t(bestGpu)];
  }
  return p;
}

void Placement::replicateHottest(const std::vector<double>& load, int count, int G) {
  std::vector<int> order(load.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return load[size_t(a)] > load[size_t(b)]; });
  for (int i = 0; i < count && i < int(order.size()); ++i) {
    auto share = gpuShare(load, G);
    int e = order[size_t(i)];
    int g = -1;
    for (int c = 0; c < G; ++c)
      if (std::find(hosts[size_t(e)].begin(), hosts[size_t(e)].end(), c) == hosts[size_t(e)].end() &&
          (g < 0 || share[size_t(c)] < share[size_t(g)]))
        g = c;
    if (g >= 0) hosts[size_t(e)].push_back(g);
  }
}

std::vector<double> Placement::gpuShare(const std::vector<double>& expertShare, int G) const {
  std::vector<double> share(size_t(G), 0.0);
  for (size_t e = 0; e < hosts.size() && e < expertShare.size(); ++e)
    for (int g : hosts[e]) share[size_t(g)] += expertShare[e] / double(hosts[e].size());
  return share;
}

}  // namespace moelab::sim
