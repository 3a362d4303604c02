#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace moelab::sim {

// Achieved fraction of a link's line rate as a function of message size: a table of
// (bytes, efficiency) points, interpolated linearly in log(bytes), clamped at both ends.
struct EfficiencyCurve {
  std::vector<std::pair<double, double>> points;
  double at(double bytes) const;
  double peak() const;  // the best efficiency in the table (1 when empty)
  static EfficiencyCurve plateau(double efficiency, double halfBytes);  // e * b / (b + halfBytes) sampled
  nlohmann::json toJson() const;
};

// A GPU cluster for expert-parallel all-to-all: nodes x GPUs per node; an intra-node fabric
// (NVLink/NVSwitch: non-blocking, per-GPU bandwidth) and NICs (shared by GPUs when fewer than
// GPUs per node) into an inter-node fabric with optional oversubscription. Bandwidths are
// unidirectional, in GB/s (1e9 bytes/s).
struct ClusterSpec {
  std::string name = "custom";
  int nodes = 1, gpusPerNode = 8;
  double intraGBps = 450, intraLatencyUs = 3;
  double nicGbps = 400;  // line rate per NIC, Gb/s
  int nicsPerNode = 8;
  double interLatencyUs = 5, hopDelayUs = 0.5;
  int switchHops = 3;
  double oversubscription = 1.0;  // inter-node fabric capacity per node = NICs x rate / this
  EfficiencyCurve intraEfficiency, nicEfficiency;

  int gpus() const { return nodes * gpusPerNode; }
  double nicGBps() const { return nicGbps / 8.0; }
  static ClusterSpec preset(const std::string& name);  // throws UserError listing the presets
  static std::vector<std::string> presetNames();
  nlohmann::json toJson() const;
};

}  // namespace moelab::sim
