#pragma once
#include <string>
#include <vector>

namespace moelab::sim {

// Which GPUs host each expert. Tokens for a replicated expert are split evenly over its copies.
struct Placement {
  std::vector<std::vector<int>> hosts;  // expert -> GPUs

  static Placement contiguous(int experts, int gpus);  // experts [g*E/G, (g+1)*E/G) on GPU g
  static Placement roundRobin(int experts, int gpus);  // expert e on GPU e mod G
  static Placement custom(const std::vector<int>& expertToGpu, int gpus);  // throws UserError
  // Node-then-GPU longest-processing-time-first with ceil(E/G) expert slots per GPU.
  static Placement greedyBalanced(const std::vector<double>& expertLoad, int gpus, int gpusPerNode);
  // One extra copy of each of the `count` heaviest experts, on the GPUs with the least load.
  void replicateHottest(const std::vector<double>& expertLoad, int count, int gpus);

  // Fraction of all routed tokens that each GPU receives, given each expert's share.
  std::vector<double> gpuShare(const std::vector<double>& expertShare, int gpus) const;
};

}  // namespace moelab::sim
