#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace moelab {

class ExperimentStore;

using Matrix = std::vector<std::vector<double>>;  // rows of equal length

// What a gnn_moe run stored at one evaluation: per layer and GNN layer sigmoid(A), the effective
// coupling A_ij c_ij averaged over a validation batch and its spread across tokens, and per layer
// each expert's share of the coupled output. Runs from before the coupling probe have only
// `adjacency` (the others empty).
struct CouplingSnapshot {
  int64_t step = 0;
  std::vector<std::vector<Matrix>> adjacency, effective, spread;  // [layer][gnn layer] -> E x E
  std::vector<std::vector<double>> share;                         // [layer] -> E
  int64_t tokens = 0;                                             // tokens the probe averaged over
};

// What a sparse_moe run stored at one log step: tokens routed to each expert, per MoE layer.
struct ExpertCountsSnapshot {
  int64_t step = 0;
  std::vector<std::vector<double>> layers;  // [layer] -> E
};

// The expert-view artifacts of one run, ordered by step. Reads are incremental: pass the last
// step already held to fetch only newer snapshots.
struct ExpertArtifacts {
  std::vector<CouplingSnapshot> coupling;
  std::vector<ExpertCountsSnapshot> counts;

  int64_t lastCouplingStep() const { return coupling.empty() ? -1 : coupling.back().step; }
  int64_t lastCountsStep() const { return counts.empty() ? -1 : counts.back().step; }
  // Appends `newer` (steps after ours); a step at or before ours replaces from there (a resumed run
  // rewinds its artifacts).
  void merge(ExpertArtifacts newer);
};

ExpertArtifacts readExpertArtifacts(const ExperimentStore& store, int64_t run, int64_t couplingAfter = -1,
                                    int64_t countsAfter = -1);

// The expert counts a run stored at `step` (the last one when step < 0), per layer; `usedStep`
// receives the step taken. Throws UserError naming the run when it has none (not sparse_moe, or
// trained with train.expert_views off) or no snapshot at that step.
std::vector<std::vector<double>> runExpertCounts(const ExperimentStore& store, int64_t run, int64_t step,
                                                 int64_t* usedStep = nullptr);

// Load-balance summary of one layer's counts, as the expert views print it beside each layer.
struct LoadSummary {
  double cv = 0, gini = 0, maxOverMean = 0;
};
LoadSummary summariseLoad(const std::vector<double>& counts);

}  // namespace moelab
