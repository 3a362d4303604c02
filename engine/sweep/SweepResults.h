#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "store/ExperimentStore.h"
#include "sweep/SweepSpec.h"

namespace moelab {

// One point of a sweep with what its run achieved.
struct SweepRow {
  int64_t index = 0;
  nlohmann::json values = nlohmann::json::object();  // swept key -> value
  int64_t runId = 0;                                 // 0: the point never ran (invalid, refused, pending)
  std::string runName, status, error;
  double best = NAN, final = NAN;  // the sweep metric: best (by the goal) and latest
  int64_t bestStep = -1, steps = 0;
  int64_t parameters = 0;
  double wallSeconds = NAN, tokensPerSecond = NAN;
  double trainTokens = NAN;    // tokens trained on (steps x the mean logged tokens per step)
  double flopsPerToken = NAN;  // the model's own estimate, when the run recorded it
  nlohmann::json config, provenance;
};

// A sweep's results: the spec, its varied parameters and one row per point; the best row by the
// sweep's metric and goal. Drives `moelab-cli sweep show/export`, the desktop app's sweep table
// and charts and the sweep report.
struct SweepTable {
  SweepRecord sweep;
  SweepSpec spec;
  std::vector<std::string> varied;  // swept keys, in spec order
  std::vector<SweepRow> rows;
  int bestRow = -1;

  static SweepTable load(const ExperimentStore& store, int64_t sweepId);
  // The seed's sweep columns first (embed_dim ... error_message), then every swept key, then
  // status, the metric's best/final, steps, tokens/s, run id. data_mode names the real data set
  // and the SHA-256 of each of its files (there is no synthetic fallback to record).
  void writeCsv(std::ostream& out) const;
  nlohmann::json toJson() const;
  std::string summaryLine() const;  // "12 points: 9 finished, 2 pruned, 1 invalid; best #4 val/loss 5.12"
};

// The seed's sweep CSV columns, in its order.
const std::vector<std::string>& seedSweepColumns();

}  // namespace moelab
