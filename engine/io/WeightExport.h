#pragma once
#include <torch/torch.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "model/LanguageModel.h"

namespace moelab {

// The documented export layout "moelab-weights-v1" (docs/WEIGHTS.md), whatever the internal layout:
// - names are dotted module paths ending in .weight / .bias ("layers.0.blocks.fc1.weight",
//   "final_norm.weight"); learnable non-linear tensors keep their name ("adjacency_logits"), and
//   the sparse router's selection bias buffer is included ("moe.router.selection_bias");
// - every linear weight is in PyTorch's [out, in] orientation (y = x W^T + b); gnn_moe expert
//   blocks and sparse_moe routed experts are stacked as [E, out, in] (norms [E, D]);
// - single blocks (dense layers, sparse_moe attention and norms) have no leading copy dimension.
// Throws std::logic_error for a parameter the layout does not know (so none is exported wrongly).
std::vector<std::pair<std::string, torch::Tensor>> exportedTensors(const LanguageModel& model);

// String metadata for the safetensors header: layout, architecture, resolved and padded vocabulary
// size, which rows are vocabulary padding, the config, the step and which checkpoint was taken.
std::map<std::string, std::string> exportMetadata(const LanguageModel& model, const nlohmann::json& config,
                                                  int64_t step, const std::string& which);

}  // namespace moelab
