#include "sim/ClusterSpec.h"

#include <algorithm>
#include <cmath>

#include "util/Errors.h"

namespace moelab::sim {

double EfficiencyCurve::at(double bytes) const {
  if (points.empty()) return 1.0;
  if (bytes <= points.front().first) return points.front().second;
  if (bytes >= points.back().first) return points.back().second;
  auto hi = std::upper_bound(points.begin(), points.end(), bytes,
                             [](double b, const std::pair<double, double>& p) { return b < p.first; });
  auto lo = hi - 1;
  double t = (std::log(bytes) - std::log(lo->first)) / (std::log(hi->first) - std::log(lo->first));
  return lo->second + t * (hi->second - lo->second);
}

double EfficiencyCurve::peak() const {
  double best = points.empty() ? 1.0 : 0.0;
  for (const auto& p : points) best = std::max(best, p.second);
  return best;
}

EfficiencyCurve EfficiencyCurve::plateau(double e, double halfBytes) {
  EfficiencyCurve c;
  for (double b = 1024; b <= double(1ULL << 32); b *= 4) c.points.emplace_back(b, e * b / (b + halfBytes));
  return c;
}

nlohmann::json EfficiencyCurve::toJson() const {
  nlohmann::json j = nlohmann::json::array();
  for (auto& [b, e] : points) j.push_back({b, e});
  return j;
}

namespace {
// Achieved fraction of line rate of NCCL-style per-peer messages: about a tenth of the peak at
// 1 KB, about half at 128 KB (the 64 x H800 8 MiB all-to-all), the peak from `plateauBytes` on
// (nccl-tests' large-message bus bandwidths). Interpolated in log(bytes), these points keep the
// time of a message growing with its size. docs/NETWORK_SIM.md gives the sources.
EfficiencyCurve messageCurve(double peak, double plateauBytes) {
  EfficiencyCurve c;
  c.points = {{1024.0, 0.09 * peak}, {131072.0, 0.52 * peak}, {plateauBytes, peak}};
  return c;
}
}  // namespace

// Presets. Line rates are the vendors' figures; the peaks are calibrated so that uniform
// all-to-all reproduces nccl-tests bus bandwidths (docs/NETWORK_SIM.md has the sources).
ClusterSpec ClusterSpec::preset(const std::string& name) {
  ClusterSpec c;
  c.name = name;
  if (name == "dgx-h100" || name == "hgx-h100") {
    c.intraGBps = 450;  // NVLink 4: 900 GB/s bidirectional per GPU through NVSwitch
    c.nicGbps = 400;    // 8 x ConnectX-7 NDR, one per GPU
    c.intraEfficiency = messageCurve(370.0 / 450.0, 16e6);
    c.nicEfficiency = messageCurve(0.97, 8e6);
  } else if (name == "dgx-a100") {
    c.intraGBps = 300;  // NVLink 3: 600 GB/s bidirectional
    c.nicGbps = 200;    // 8 x HDR
    c.intraEfficiency = messageCurve(230.0 / 300.0, 16e6);
    c.nicEfficiency = messageCurve(0.97, 8e6);
  } else if (name == "h800") {
    c.intraGBps = 200;  // export-limited NVLink: 400 GB/s bidirectional
    c.nicGbps = 400;
    c.intraEfficiency = messageCurve(370.0 / 450.0, 16e6);
    c.nicEfficiency = messageCurve(0.97, 8e6);
  } else if (name == "ethernet") {
    c.intraGBps = 25;  // PCIe Gen4 x16 through a host switch
    c.intraLatencyUs = 8;
    c.nicGbps = 100;  // 2 x 100 GbE RoCE per node, each shared by 4 GPUs
    c.nicsPerNode = 2;
    c.interLatencyUs = 10;
    c.hopDelayUs = 1;
    c.oversubscription = 2.0;
    c.intraEfficiency = EfficiencyCurve::plateau(0.8, 4e6);
    c.nicEfficiency = EfficiencyCurve::plateau(0.9, 4e6);
  } else {
    std::string all;
    for (auto& n : presetNames()) all += (all.empty() ? "" : ", ") + n;
    throw UserError("cluster.preset: expected one of " + all + ", got \"" + name + "\"");
  }
  return c;
}

std::vector<std::string> ClusterSpec::presetNames() {
  return {"dgx-a100", "dgx-h100", "hgx-h100", "h800", "ethernet"};
}

nlohmann::json ClusterSpec::toJson() const {
  return {{"name", name},
          {"nodes", nodes},
          {"gpus_per_node", gpusPerNode},
          {"intra_gbps", intraGBps},
          {"intra_latency_us", intraLatencyUs},
          {"nic_gbit", nicGbps},
          {"nics_per_node", nicsPerNode},
          {"inter_latency_us", interLatencyUs},
          {"hop_delay_us", hopDelayUs},
          {"switch_hops", switchHops},
          {"oversubscription", oversubscription},
          {"intra_efficiency", intraEfficiency.toJson()},
          {"nic_efficiency", nicEfficiency.toJson()}};
}

}  // namespace moelab::sim
