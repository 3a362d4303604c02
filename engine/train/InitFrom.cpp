#include "train/InitFrom.h"

#include <algorithm>

#include "util/Errors.h"

namespace moelab {

const std::vector<std::string>& initFromChangeableModelKeys() {
  static const std::vector<std::string> keys = {
      "dropout",           "capacity_factor", "eval_capacity_factor", "drop_policy",
      "router_jitter",     "aux_loss_coef",   "z_loss_coef",          "aux_free_balancing",
      "aux_free_gamma",    "gini_loss_coef",  "variance_loss_coef",   "cv_loss_coef",
      "entropy_loss_coef", "expert_parallel"};  // checkpoints hold every expert either way
  return keys;
}

void checkInitFromCompatible(const nlohmann::json& parent, const nlohmann::json& config) {
  const auto& free = initFromChangeableModelKeys();
  std::vector<std::string> differences;
  const nlohmann::json& pm = parent.at("model");
  for (const auto& [key, value] : config.at("model").items()) {
    if (std::find(free.begin(), free.end(), key) != free.end()) continue;
    const nlohmann::json before = pm.contains(key) ? pm[key] : nlohmann::json(nullptr);
    if (before != value)
      differences.push_back("model." + key + " (" + before.dump() + " -> " + value.dump() + ")");
  }
  const auto tokenizer = [](const nlohmann::json& c) { return c.at("data").value("tokenizer", ""); };
  if (tokenizer(parent) != tokenizer(config))
    differences.push_back("data.tokenizer (\"" + tokenizer(parent) + "\" -> \"" + tokenizer(config) + "\")");
  if (differences.empty()) return;
  std::string list;
  for (const auto& d : differences) list += (list.empty() ? "" : ", ") + d;
  throw UserError("--init-from: the parent run's model differs in " + list +
                  "; a fine-tune keeps the parent's model and tokenizer and may change only the model's "
                  "training keys (dropout, capacity, jitter, balancing and imbalance-loss coefficients) and "
                  "the train/data sections");
}

}  // namespace moelab
