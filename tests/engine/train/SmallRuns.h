#pragma once
// Shared by the training tests that run small models end to end.
#include <map>
#include <string>

#include "train/Trainer.h"

namespace moelab::test {

// Collects train/loss per step.
struct StepLosses : MetricSink {
  std::map<int64_t, double> loss;
  void onMetrics(const std::vector<MetricPoint>& points) override {
    for (const auto& p : points)
      if (p.key == "train/loss") loss[p.step] = p.value;
  }
  void onProgress(const TrainProgress&) override {}
  void onArtifact(const std::string&, int64_t, const nlohmann::json&) override {}
};

// A 2-layer, 32-wide model of `architecture` (3 experts with 2 GNN layers for gnn_moe; 4 experts,
// top-2, width 48 for sparse_moe), 32-token sequences.
inline nlohmann::json smallModel(const std::string& architecture) {
  nlohmann::json model = {{"architecture", architecture},
                          {"embed_dim", 32},
                          {"num_layers", 2},
                          {"num_heads", 2},
                          {"max_seq_length", 32}};
  if (architecture == "gnn_moe") model.update({{"num_experts", 3}, {"gnn_layers", 2}});
  if (architecture == "sparse_moe")
    model.update({{"num_experts", 4}, {"top_k", 2}, {"expert_intermediate_dim", 48}});
  return model;
}

}  // namespace moelab::test
