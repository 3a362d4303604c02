#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli/CliCommon.h"
#include "cli/Commands.h"
#include "cli/SweepPreview.h"
#include "report/RunComparison.h"
#include "sweep/SweepResults.h"
#include "util/Errors.h"

namespace moelab::cli {
namespace {

// The expansion, as `sweep preview` and `sweep run` print it before anything starts.
void printPreview(const SweepSpec& spec, const std::vector<SweepPoint>& points, bool json) {
  int invalid = 0;
  for (const auto& p : points) invalid += !p.valid();
  if (json) {
    nlohmann::json out = {{"name", spec.name}, {"method", spec.method}, {"points", nlohmann::json::array()}};
    for (const auto& p : points)
      out["points"].push_back(
          {{"index", p.index}, {"values", p.values}, {"valid", p.valid()}, {"error", p.error}});
    out["runs"] = int(points.size()) - invalid;
    out["invalid"] = invalid;
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::printf(
      "sweep '%s': %s over %zu parameter(s) -> %zu points (%d invalid), metric %s (%s), %ld at a time%s\n",
      spec.name.c_str(), spec.method.c_str(), spec.params.size(), points.size(), invalid, spec.metric.c_str(),
      spec.goal.c_str(), long(spec.maxConcurrent),
      spec.earlyStopping.method == EarlyStoppingSpec::Method::None
          ? ""
          : (", early stopping " + spec.earlyStopping.toJson()["method"].get<std::string>()).c_str());
  for (const auto& p : points)
    std::printf("  #%-4ld %s%s%s\n", long(p.index), p.label(false).c_str(),
                p.valid() ? "" : "  INVALID: ", p.error.c_str());
}

}  // namespace

CliArgs parseSweepArgs(const Words& words) {
  return CliArgs::parse(words, {"json"},
                        {"db", "data-dir", "concurrency", "threads", "checkpoint-dir", "csv", "name"});
}

SweepSpec previewSweep(const std::string& specFile, const CliArgs& a, bool json) {
  SweepSpec spec = SweepSpec::load(specFile);
  if (a.has("name")) spec.name = a.get("name");
  const auto points = expandSweep(spec);
  printPreview(spec, points, json);
  int valid = 0;
  for (const auto& p : points) valid += p.valid();
  if (valid == 0) throw UserError("every point of the sweep is invalid; nothing to run");
  return spec;
}

int sweepCommand(const Words& words) {
  const CliArgs a = parseSweepArgs(words);
  if (a.positional.empty())
    throw UserError("sweep needs a subcommand: preview SPEC, run SPEC, resume ID, list, show ID, export ID");
  const std::string sub = a.positional[0];
  auto needOne = [&](const char* what) {
    if (a.positional.size() != 2) throw UserError("sweep " + sub + " needs " + what);
    return a.positional[1];
  };
  if (sub == "run" || sub == "resume")  // trains: in the engine module (TorchCommands.cpp)
    throw std::logic_error("sweep " + sub + " is dispatched to the engine module");
  if (sub == "preview") {
    previewSweep(needOne("a sweep spec file"), a, /*json=*/a.has("json"));
    return 0;
  }
  auto store = openStore(a, /*mustExist=*/true, /*readOnly=*/true);
  if (sub == "list") {
    const auto sweeps = store->listSweeps();
    if (a.has("json")) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& s : sweeps) out.push_back(SweepTable::load(*store, s.id).toJson());
      std::cout << out.dump(2) << "\n";
      return 0;
    }
    std::printf("%-5s %-28s %-12s %7s  %s\n", "id", "name", "status", "points", "summary");
    for (const auto& s : sweeps)
      std::printf("%-5ld %-28s %-12s %7ld  %s\n", long(s.id), s.name.substr(0, 28).c_str(), s.status.c_str(),
                  long(s.points), SweepTable::load(*store, s.id).summaryLine().c_str());
    return 0;
  }
  const int64_t id = parseRunId(needOne("a sweep ID"));
  const SweepTable t = SweepTable::load(*store, id);
  if (sub == "show") {
    if (a.has("json")) {
      std::cout << t.toJson().dump(2) << "\n";
      return 0;
    }
    std::printf("sweep %ld '%s': %s, %s, metric %s (%s)\n%s\n", long(id), t.sweep.name.c_str(),
                t.sweep.status.c_str(), t.spec.method.c_str(), t.spec.metric.c_str(), t.spec.goal.c_str(),
                t.summaryLine().c_str());
    std::printf("  %-5s %-6s %-12s %10s %10s %9s  %s\n", "point", "run", "status", "best", "final", "params",
                "values");
    for (size_t i = 0; i < t.rows.size(); ++i) {
      const auto& r = t.rows[i];
      std::printf("%s %-5ld %-6s %-12s %10s %10s %9s  %s%s%s\n", int(i) == t.bestRow ? "*" : " ",
                  long(r.index), r.runId > 0 ? std::to_string(r.runId).c_str() : "-", r.status.c_str(),
                  std::isnan(r.best) ? "-" : formatMetric(r.best).c_str(),
                  std::isnan(r.final) ? "-" : formatMetric(r.final).c_str(),
                  r.parameters > 0 ? std::to_string(r.parameters).c_str() : "-",
                  SweepPoint{r.index, r.values, nullptr, ""}.label().c_str(), r.error.empty() ? "" : "  ",
                  r.error.substr(0, 120).c_str());
    }
    return 0;
  }
  if (sub == "export") {
    const std::string out = a.get("csv", "");
    if (out.empty()) throw UserError("sweep export needs --csv OUT (or --csv - for stdout)");
    if (out == "-") {
      t.writeCsv(std::cout);
      return 0;
    }
    std::ofstream f(out);
    if (!f) throw UserError("cannot write " + out);
    t.writeCsv(f);
    f.close();
    if (!f) throw std::runtime_error("writing " + out + " failed");
    std::fprintf(stderr, "wrote %zu rows to %s\n", t.rows.size(), out.c_str());
    return 0;
  }
  throw UserError("unknown sweep subcommand '" + sub + "' (preview, run, resume, list, show, export)");
}

}  // namespace moelab::cli
