#include "profile/ReassignmentCsv.h"

#include "io/CsvWriter.h"

namespace moelab {

void writeReassignmentCsv(std::ostream& os, const nlohmann::json& table) {
  CsvWriter csv(os);
  static const char* numbers[] = {"perplexity",
                                  "perplexity_change",
                                  "loss",
                                  "gini",
                                  "cv",
                                  "entropy",
                                  "max_mean",
                                  "dead",
                                  "dropped",
                                  "alltoall_ms",
                                  "alltoall_change",
                                  "slowdown_vs_balanced"};
  csv.text("strategy");
  for (const char* n : numbers) csv.text(n);
  csv.endRow();
  for (const auto& r : table.at("rows")) {
    csv.text(r.at("strategy").get<std::string>());
    for (const char* n : numbers) {
      if (r.contains(n) && r[n].is_number())
        csv.number(r[n].get<double>());
      else
        csv.text("");  // null: not a number (JSON has no NaN or infinity)
    }
    csv.endRow();
  }
}

}  // namespace moelab
