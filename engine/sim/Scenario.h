#pragma once
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/ConfigSchema.h"
#include "sim/ClusterSpec.h"
#include "sim/DispatchAlgorithm.h"
#include "sim/Placement.h"
#include "sim/TrafficModel.h"

namespace moelab::sim {

// An expert-parallel all-to-all study: cluster, MoE shape, placement, traffic, and what to compare.
struct Scenario {
  ClusterSpec cluster;
  int experts = 64, topK = 2, layers = 1;
  int64_t hidden = 4096, tokensPerGpu = 4096;
  // Bytes per element of each exchange's payload; dispatch may carry block scales on top
  // (fp8 with one fp32 scale per 128 elements: 1 + 4/128 bytes per element).
  double dispatchBytes = 2, combineBytes = 2, backwardBytes = 2;
  double dispatchScaleBytes = 0;
  int scaleBlock = 128;
  bool backward = true;
  CommSpec comm;
  std::string placement = "contiguous";
  std::vector<int> placementMap;
  int replicateHot = 0;
  TrafficSpec traffic;
  int steps = 100;
  uint64_t seed = 1;
  std::vector<std::string> compareStrategies, comparePlacements, compareAlgorithms;
  bool compareUniform = true;
  // A published figure this scenario reproduces (experiments/sim/validation/): metric of one
  // collective, the reference value and where it comes from; metric "none" when not a validation.
  std::string validationMetric = "none", validationCollective = "dispatch", validationSource;
  double validationReference = 0;
  nlohmann::json json;  // validated document with defaults

  static const ConfigSchema& schema();
  // Throws ConfigError / UserError naming the JSON path.
  static Scenario fromJson(const nlohmann::json& doc);
  static Scenario load(const std::string& path, const std::vector<std::string>& overrides = {});

  double dispatchBytesPerToken() const {
    return double(hidden) * dispatchBytes +
           (dispatchScaleBytes > 0 ? std::ceil(double(hidden) / scaleBlock) * dispatchScaleBytes : 0.0);
  }
};

// The placement `kind` of the scenario's experts, decided from their expected load.
Placement makePlacement(const Scenario& s, const std::string& kind, const std::vector<double>& expectedLoad);

// `doc` (a scenario document) with its traffic replaced by measured tokens per expert, one array
// per MoE layer (e.g. a sparse_moe run's expert_counts), and per source shard when measured
// (traffic.counts_by_source; cleared otherwise): traffic.kind = counts, model.num_experts and
// model.layers from the counts, model.top_k when topK > 0. The CLI and the app both use it, so the
// same run gives the same result in both.
nlohmann::json withMeasuredTraffic(nlohmann::json doc, const MeasuredTraffic& traffic);

// Everything a chart needs, so the desktop app never recomputes.
nlohmann::json runScenario(const Scenario& s);
// Just the step-time samples of one variant (for benchmarks and tests).
std::vector<double> simulateStepTimes(const Scenario& s);

}  // namespace moelab::sim
