#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace moelab {

struct ConfigChange {
  std::string key;  // dotted path, e.g. "train.max_steps"
  nlohmann::json before, after;
};

// How the config requested for a resume differs from the one the run was trained with.
struct ResumeChanges {
  std::vector<ConfigChange> changes;
  bool horizonChanged = false;  // train.epochs or train.max_steps: needs --extend

  bool empty() const { return changes.empty(); }
  std::string describe() const;   // "train.max_steps 100 -> 200, train.threads 0 -> 2"
  nlohmann::json toJson() const;  // [{"key", "before", "after"}]
};

// Compares the recorded and requested experiment JSON of a run being resumed and decides what may
// change. Free: train.threads, train.log_every, train.eval_every (they do not touch the training
// trajectory), and the checkpoint cadence. Horizon: train.epochs, train.max_steps, allowed
// only with `extend`. Anything else (model, data, batch size, seed, optimizer and schedule settings) would
// make the resumed run differ from an uninterrupted one: throws UserError naming each such key.
ResumeChanges checkResumeChanges(const nlohmann::json& recorded, const nlohmann::json& requested,
                                 bool extend);

}  // namespace moelab
