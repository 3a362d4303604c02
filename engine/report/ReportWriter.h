#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace moelab {

class ExperimentStore;

struct ReportImage {
  std::string relPath, caption;  // relative to the report folder, e.g. "charts/train-loss.png"
};

// Report folders: a self-contained index.html (config, provenance, metric tables, the given chart
// images) plus the CSVs it links. The desktop app renders the charts first and passes them; the
// CLI writes the tables and CSVs alone. Both return the files written (relative paths) and throw
// UserError for an unknown run or a folder that cannot be written.
std::vector<std::string> writeRunReport(const ExperimentStore& store, int64_t run, const std::string& folder,
                                        const std::vector<ReportImage>& images = {});
std::vector<std::string> writeComparisonReport(const ExperimentStore& store, const std::vector<int64_t>& runs,
                                               const std::string& folder,
                                               const std::vector<ReportImage>& images = {});

}  // namespace moelab
