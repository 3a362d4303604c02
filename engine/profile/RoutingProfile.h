#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "metrics/LoadImbalance.h"
#include "sim/TrafficModel.h"

namespace moelab {

// One MoE layer's routing over the profiled text: assignments per expert before capacity, and
// optionally the same counts split by token-position bucket and by data-parallel source shard.
struct LayerRouting {
  std::vector<int64_t> counts;                   // [E]
  int64_t dropped = 0;                           // assignments over evaluation capacity
  std::vector<std::vector<int64_t>> byPosition;  // [bucket][E]; empty when not split
  std::vector<std::vector<int64_t>> byShard;     // [shard][E]; empty when not split
  LoadImbalance imbalance() const { return LoadImbalance::of(counts); }
};

// gnn_moe's analogue, per layer: per GNN layer the effective message strengths A_ij c_ij averaged
// over tokens and their spread across tokens ([E][E]), and each expert's share of the coupled output.
struct LayerCoupling {
  std::vector<std::vector<std::vector<double>>> effective, spread;  // [gnn_layer][E][E]
  std::vector<double> share;                                        // [E]
};

// What a model's router did over a body of text (RoutingProfiler), plus the loss on that text. Plain
// data: stored as JSON in the experiment database, exported as JSON/CSV, drawn by the app.
struct RoutingProfile {
  std::string architecture, source, strategy = "none";
  int64_t experts = 0, topK = 0, samples = 0, tokens = 0, seqLen = 0;
  int64_t positionBuckets = 0, shards = 0;
  bool lossMeasured = false;  // loss and perplexity are NaN (JSON null) when not measured
  double loss = 0, perplexity = 0, seconds = 0;
  std::vector<LayerRouting> layers;      // sparse_moe
  std::vector<LayerCoupling> couplings;  // gnn_moe

  // Layer means of the imbalance metrics (max for max_mean) and total dead experts.
  LoadImbalance mean() const;
  // Per-layer counts (and per-shard counts when every layer was split by shard): the network
  // simulator's measured traffic.
  sim::MeasuredTraffic traffic() const;
  nlohmann::json toJson() const;
  static RoutingProfile fromJson(const nlohmann::json& j);  // throws UserError when malformed
  // layer,expert,assignments,fraction[,position_<b>...][,shard_<g>...]: one row per layer and expert
  // (gnn_moe: layer,expert,output_share).
  void writeCsv(std::ostream& out) const;
};

}  // namespace moelab
