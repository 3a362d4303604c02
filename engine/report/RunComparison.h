#pragma once
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace moelab {

class ExperimentStore;

// Runs side by side: their flattened configs and their final and best metrics, one row per field
// with one value per run, and whether the runs differ in it. Drives the desktop app's compare
// table, `moelab-cli runs compare` and comparison reports.
struct RunComparison {
  struct Run {
    int64_t id = 0;
    std::string name, experiment, status;
    int64_t step = 0;
  };
  struct Row {
    std::string section;  // "config", "final" (latest value of a metric), "best" (smallest loss/perplexity)
    std::string field;    // "model.num_experts", "val/loss"
    std::vector<std::string> values;  // one per run; empty where a run has none
    bool differs = false;
  };
  std::vector<Run> runs;
  std::vector<Row> rows;

  // Throws UserError naming an id that is not in the store.
  static RunComparison build(const ExperimentStore& store, const std::vector<int64_t>& ids);
  // Header: section, field, then "run <id> <name>" per run; a last column `differs` (yes/no).
  void writeCsv(std::ostream& out) const;
  size_t differingConfigFields() const;
};

// How comparison and report tables print a metric value (6 significant digits; nan, inf).
std::string formatMetric(double v);

}  // namespace moelab
