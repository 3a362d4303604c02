// runs compare and report: runs side by side, and report folders (index.html + CSVs).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/CliCommon.h"
#include "cli/Commands.h"
#include "report/ReportWriter.h"
#include "report/RunComparison.h"
#include "util/Errors.h"

namespace moelab::cli {

int compareRuns(const CliArgs& a) {
  std::vector<int64_t> ids;
  for (size_t i = 1; i < a.positional.size(); ++i) ids.push_back(parseRunId(a.positional[i]));
  if (ids.size() < 2) throw UserError("runs compare needs two or more run ids (runs compare 3 4 7)");
  auto store = openStore(a, /*mustExist=*/true, /*readOnly=*/true);
  const RunComparison c = RunComparison::build(*store, ids);
  if (a.has("csv")) {
    std::ostringstream csv;
    c.writeCsv(csv);
    if (a.get("csv") == "-") {
      std::cout << csv.str();
      return 0;
    }
    std::ofstream f(a.get("csv"));
    if (!f) throw UserError("cannot write " + a.get("csv"));
    f << csv.str();
    std::fprintf(stderr, "wrote %zu rows to %s\n", c.rows.size(), a.get("csv").c_str());
    return 0;
  }
  // Text: the rows that differ (config first), then every final/best metric.
  std::printf("%-32s", "field");
  for (const auto& r : c.runs) std::printf(" %14s", ("run " + std::to_string(r.id)).c_str());
  std::printf("\n");
  for (const auto& row : c.rows) {
    if (row.section == "config" && !row.differs) continue;
    std::printf("%-32s", (row.section + " " + row.field).substr(0, 32).c_str());
    for (const auto& v : row.values) std::printf(" %14s", v.substr(0, 14).c_str());
    std::printf("%s\n", row.differs ? "  *" : "");
  }
  std::printf("(%zu config field(s) differ; identical config fields omitted, --csv writes all)\n",
              c.differingConfigFields());
  return 0;
}

int reportCommand(const Words& words) {
  auto a = CliArgs::parse(words, {}, {"db", "run", "runs", "out"});
  if (!a.has("out") || a.has("run") == a.has("runs"))
    throw UserError("usage: report (--run ID | --runs ID,ID...) --out DIR");
  auto store = openStore(a, /*mustExist=*/true, /*readOnly=*/true);
  std::vector<std::string> files;
  if (a.has("run")) {
    files = writeRunReport(*store, parseRunId(a.get("run")), a.get("out"));
  } else {
    std::vector<int64_t> ids;
    std::stringstream list(a.get("runs"));
    for (std::string id; std::getline(list, id, ',');)
      if (!id.empty()) ids.push_back(parseRunId(id));
    if (ids.size() < 2) throw UserError("--runs needs two or more ids separated by commas (--runs 3,4)");
    files = writeComparisonReport(*store, ids, a.get("out"));
  }
  std::fprintf(stderr, "wrote %s/index.html and %zu other file(s)\n", a.get("out").c_str(), files.size() - 1);
  return 0;
}

}  // namespace moelab::cli
