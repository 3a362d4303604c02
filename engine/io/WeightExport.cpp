#include "io/WeightExport.h"

#include <set>
#include <stdexcept>

namespace moelab {
namespace {

// Internal leaves stored [.., in, out] for batched matmuls (x @ W): exported transposed.
const std::set<std::string> kInOutLeaves = {"qkv_weight", "out_weight", "fc1_weight", "fc2_weight",
                                            "w1",         "w2",         "w3"};
// Leaves exported under their own name (not a .weight/.bias of a module).
const std::set<std::string> kPlainLeaves = {"adjacency_logits", "selection_bias"};

std::string exportedName(const std::string& key) {
  const size_t dot = key.rfind('.');
  const std::string path = dot == std::string::npos ? "" : key.substr(0, dot + 1);
  const std::string leaf = dot == std::string::npos ? key : key.substr(dot + 1);
  if (leaf == "weight" || leaf == "bias" || kPlainLeaves.count(leaf)) return key;
  if (leaf == "w1" || leaf == "w2" || leaf == "w3") return path + leaf + ".weight";
  for (const std::string suffix : {"_weight", "_bias"})
    if (leaf.size() > suffix.size() && leaf.compare(leaf.size() - suffix.size(), suffix.size(), suffix) == 0)
      return path + leaf.substr(0, leaf.size() - suffix.size()) + "." + suffix.substr(1);
  throw std::logic_error("weight export: no layout rule for " + key);
}

bool contains(const std::string& s, const char* part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

std::vector<std::pair<std::string, torch::Tensor>> exportedTensors(const LanguageModel& model) {
  const std::string arch = model->cfg.architecture;
  std::vector<std::pair<std::string, torch::Tensor>> out;
  auto add = [&](const std::string& key, const torch::Tensor& value) {
    auto t = value.detach();
    const std::string leaf = key.substr(key.rfind('.') + 1);
    if (kInOutLeaves.count(leaf)) t = t.transpose(-2, -1);
    // Copy-stacked tensors of single blocks lose their leading dimension of 1; expert stacks
    // (gnn_moe blocks, sparse routed experts) keep [E, ...] even when E is 1.
    const bool expertStack =
        (arch == "gnn_moe" && contains(key, ".blocks.")) || contains(key, ".moe.experts.");
    const bool copyStacked = contains(key, ".blocks.") || contains(key, ".attention.") ||
                             contains(key, ".norm1_") || contains(key, ".norm2_");
    if (copyStacked && !expertStack) t = t.squeeze(0);
    out.emplace_back(exportedName(key), t.contiguous());
  };
  for (const auto& p : model->named_parameters()) add(p.key(), p.value());
  for (const auto& b : model->named_buffers()) add(b.key(), b.value());
  return out;
}

std::map<std::string, std::string> exportMetadata(const LanguageModel& model, const nlohmann::json& config,
                                                  int64_t step, const std::string& which) {
  const auto& c = model->cfg;
  std::map<std::string, std::string> m = {
      {"format", "pt"},
      {"moelab_layout", "moelab-weights-v1"},
      {"architecture", c.architecture},
      {"vocab_size", std::to_string(c.vocabSize)},
      {"padded_vocab_size", std::to_string(c.paddedVocab())},
      {"linear_orientation", "[out, in]; stacked experts [E, out, in]; y = x @ W.T + b"},
      {"moelab_config", config.dump()},
      {"step", std::to_string(step)},
      {"checkpoint", which}};
  if (c.paddedVocab() > c.vocabSize)
    m["vocab_padding"] = "rows " + std::to_string(c.vocabSize) + ".." + std::to_string(c.paddedVocab() - 1) +
                         " of token_embedding.weight" +
                         (c.tieEmbeddings ? ""
                          : c.bias        ? ", head.weight and head.bias"
                                          : " and head.weight") +
                         " are padding: no token has these ids; drop the logits before the softmax";
  else
    m["vocab_padding"] = "none";
  return m;
}

}  // namespace moelab
