#include "sim/ScenarioCsv.h"

#include "io/CsvWriter.h"

namespace moelab::sim {

void writeComparisonCsv(std::ostream& out, const nlohmann::json& result) {
  CsvWriter w(out);
  static const char* kNumbers[] = {"mean_ms",
                                   "p50_ms",
                                   "p95_ms",
                                   "p99_ms",
                                   "slowdown_vs_balanced",
                                   "bytes_per_step",
                                   "inter_node_bytes_per_step"};
  w.text("scenario");
  w.text("algorithm");
  for (const char* h : kNumbers) w.text(h);
  w.text("bottleneck");
  w.endRow();
  for (const auto& r : result.at("comparison")) {
    w.text(r.at("name").get<std::string>());
    w.text(r.value("algorithm", std::string("flat")));
    for (const char* k : kNumbers) w.number(r.at(k).get<double>());
    w.text(r.at("bottleneck").get<std::string>());
    w.endRow();
  }
}

}  // namespace moelab::sim
