#include "train/ResumeChanges.h"

#include <set>

#include "config/ExperimentConfig.h"
#include "util/Errors.h"

namespace moelab {
namespace {
// train.eval_batches is not free: it picks the validation subset that `best` is chosen on.
const std::set<std::string> kFree = {
    "train.threads",          "train.log_every",          "train.eval_every",
    "train.checkpoint_every", "train.checkpoint_minutes", "train.expert_views"};
const std::set<std::string> kHorizon = {"train.epochs", "train.max_steps"};
}  // namespace

std::string ResumeChanges::describe() const {
  std::string s;
  for (const auto& c : changes) {
    if (!s.empty()) s += ", ";
    s += c.key + " " + (c.before.is_null() ? "(unset)" : c.before.dump()) + " -> " +
         (c.after.is_null() ? "(unset)" : c.after.dump());
  }
  return s;
}

nlohmann::json ResumeChanges::toJson() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : changes) out.push_back({{"key", c.key}, {"before", c.before}, {"after", c.after}});
  return out;
}

ResumeChanges checkResumeChanges(const nlohmann::json& recorded, const nlohmann::json& requested,
                                 bool extend) {
  const auto before = flattenConfig(recorded), after = flattenConfig(requested);
  ResumeChanges r;
  std::set<std::string> keys;
  for (auto it = before.begin(); it != before.end(); ++it) keys.insert(it.key());
  for (auto it = after.begin(); it != after.end(); ++it) keys.insert(it.key());
  std::vector<std::string> refused;
  for (const auto& k : keys) {
    auto b = before.contains(k) ? before[k] : nlohmann::json();
    auto a = after.contains(k) ? after[k] : nlohmann::json();
    if (a == b) continue;
    r.changes.push_back({k, b, a});
    if (kHorizon.count(k))
      r.horizonChanged = true;
    else if (!kFree.count(k))
      refused.push_back(k + " " + b.dump() + " -> " + a.dump());
  }
  if (!refused.empty()) {
    std::string list;
    for (const auto& s : refused) list += (list.empty() ? "" : ", ") + s;
    throw UserError("--resume cannot change " + list +
                    ": the resumed run would no longer continue the recorded one exactly (model, data, "
                    "batch size, seed, optimizer and schedule settings are fixed for a run). Start a "
                    "new run with these settings instead");
  }
  if (r.horizonChanged && !extend)
    throw UserError(
        "--resume: changing train.epochs or train.max_steps moves the cosine learning-rate "
        "schedule (the rate would jump at the resume step); pass --extend to train longer, "
        "the rate then decaying smoothly from its current value to min_learning_rate at "
        "the new last step");
  return r;
}

}  // namespace moelab
