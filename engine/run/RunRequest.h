#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace moelab {

// What to train: a new run from a config (file or document) or a resume of an existing run.
struct RunRequest {
  // New run: the config file (its stem names the experiment) or a config document.
  std::string configPath;
  nlohmann::json configDoc;            // used when configPath is empty
  std::string experiment, name;        // default: the config file's stem / the experiment
  std::vector<std::string> overrides;  // `--set key=value`, applied in order
  // Resume: the run's id; its recorded config (or configPath/configDoc) plus overrides.
  int64_t resumeRunId = 0;
  bool extend = false;  // allow a longer horizon (train.epochs, max_steps...)
  bool force = false;   // resume a run recorded as `running` (its process is known to be gone)
  std::string dataDir;
  std::string checkpointBase;  // empty: beside the database (moelab.db -> moelab-runs/<id>/)
  // A new run of a sweep: its sweep and point, recorded with the run.
  int64_t sweepId = 0, sweepIndex = -1;
  // A new run that starts from another run's weights (fine-tuning; `moelab-cli train --init-from`):
  // its best.pt or last.pt ("best" | "last"). Optimizer state and step start fresh.
  int64_t initFromRunId = 0;
  std::string initFromWhich = "best";
  // How to continue the run if it is stopped (empty: `moelab-cli train --resume ID`).
  std::string resumeAdvice;
};

}  // namespace moelab
