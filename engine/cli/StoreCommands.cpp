// runs list/show and metrics export (runs compare and report: ReportCommands.cpp): read-only views of the
// experiment database.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli/CliCommon.h"
#include "cli/Commands.h"
#include "io/MetricsCsv.h"
#include "report/AnalysisSummary.h"
#include "util/Errors.h"

namespace moelab::cli {
namespace {

nlohmann::json number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(std::to_string(v));
}

nlohmann::json runJson(const ExperimentStore& store, const RunRecord& r, bool full) {
  nlohmann::json latest = nlohmann::json::object();
  for (const auto& [k, m] : store.latestMetrics(r.id))
    latest[k] = {{"step", m.step}, {"value", number(m.value)}};
  nlohmann::json j = {{"id", r.id},
                      {"experiment", r.experiment},
                      {"name", r.name},
                      {"status", r.status},
                      {"step", r.step},
                      {"created_at", r.createdAt},
                      {"started_at", r.startedAt},
                      {"finished_at", r.finishedAt},
                      {"heartbeat_at", r.heartbeatAt},
                      {"error", r.error},
                      {"latest_metrics", latest}};
  if (full) {
    j["config"] = r.config;
    j["provenance"] = r.provenance;
    j["checkpoint_dir"] = r.checkpointDir;
    j["params"] = store.params(r.id);
    nlohmann::json arts = nlohmann::json::array();
    for (const auto& a : store.artifacts(r.id)) arts.push_back({{"key", a.key}, {"step", a.step}});
    j["artifacts"] = arts;
  }
  return j;
}

// A name as one table cell: control characters (newlines in a run name) shown as spaces, cut to width.
std::string oneLine(const std::string& s, size_t width) {
  std::string out;
  for (unsigned char c : s) out += c < 0x20 || c == 0x7F ? ' ' : char(c);
  return out.substr(0, width);
}

std::string latestValue(const ExperimentStore& store, int64_t run, const std::string& key) {
  auto m = store.latestMetrics(run);
  auto it = m.find(key);
  if (it == m.end()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", it->second.value);
  return buf;
}

}  // namespace

int runsCommand(const Words& words) {
  auto a = CliArgs::parse(words, {"json"}, {"db", "csv"});
  if (a.positional.empty()) throw UserError("runs needs a subcommand: list, show ID or compare ID ID...");
  if (a.positional[0] == "compare") return compareRuns(a);
  auto store = openStore(a, /*mustExist=*/true, /*readOnly=*/true);
  if (a.positional[0] == "list") {
    auto runs = store->listRuns();
    if (a.has("json")) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& r : runs) out.push_back(runJson(*store, r, false));
      std::cout << out.dump(2) << "\n";
      return 0;
    }
    std::printf("%-5s %-20s %-12s %8s %10s %10s  %s\n", "id", "experiment", "status", "step", "train", "val",
                "created");
    for (const auto& r : runs)
      std::printf("%-5ld %-20s %-12s %8ld %10s %10s  %s\n", long(r.id), oneLine(r.experiment, 20).c_str(),
                  r.status.c_str(), long(r.step), latestValue(*store, r.id, "train/loss").c_str(),
                  latestValue(*store, r.id, "val/loss").c_str(), r.createdAt.c_str());
    return 0;
  }
  if (a.positional[0] == "show") {
    if (a.positional.size() != 2) throw UserError("runs show needs a run ID");
    int64_t id = parseRunId(a.positional[1]);
    auto r = store->run(id);
    if (!r) throw UserError("no run with id " + std::to_string(id));
    auto j = runJson(*store, *r, true);
    const auto history = store->configChanges(id);
    j["config_changes"] = nlohmann::json::array();
    for (const auto& c : history)
      j["config_changes"].push_back(
          {{"step", c.step}, {"changes", c.changes}, {"note", c.note}, {"at", c.changedAt}});
    // Evaluations, routing profiles and reassignment tables made of the trained model.
    const auto analyses = store->analyses(id);
    j["analyses"] = nlohmann::json::array();
    for (const auto& an : analyses)
      j["analyses"].push_back({{"id", an.id},
                               {"kind", an.kind},
                               {"label", an.label},
                               {"at", an.createdAt},
                               {"summary", summarizeAnalysis(an)}});
    if (a.has("json")) {
      std::cout << j.dump(2) << "\n";
      return 0;
    }
    std::printf("run %ld (%s / %s): %s at step %ld\n", long(r->id), r->experiment.c_str(), r->name.c_str(),
                r->status.c_str(), long(r->step));
    if (!r->error.empty()) std::printf("  error: %s\n", r->error.c_str());
    std::printf("  created %s, started %s, finished %s\n  checkpoints: %s\n", r->createdAt.c_str(),
                r->startedAt.c_str(), r->finishedAt.empty() ? "-" : r->finishedAt.c_str(),
                r->checkpointDir.c_str());
    std::printf("  latest metrics:\n");
    for (const auto& [k, m] : store->latestMetrics(id))
      std::printf("    %-24s %-12g (step %ld)\n", k.c_str(), m.value, long(m.step));
    std::printf("  config:\n%s\n  provenance:\n%s\n", r->config.dump(2).c_str(),
                r->provenance.dump(2).c_str());
    for (const auto& c : history) {
      std::printf("  config changed at step %ld (%s):", long(c.step), c.changedAt.c_str());
      for (const auto& ch : c.changes)
        std::printf(" %s %s -> %s;", ch["key"].get<std::string>().c_str(), ch["before"].dump().c_str(),
                    ch["after"].dump().c_str());
      std::printf("%s%s\n", c.note.empty() ? "" : " ", c.note.c_str());
    }
    if (!analyses.empty()) std::printf("  analyses:\n");
    for (const auto& an : analyses)
      std::printf("    #%ld %-15s %s  (%s)\n", long(an.id), an.kind.c_str(), summarizeAnalysis(an).c_str(),
                  an.createdAt.c_str());
    return 0;
  }
  throw UserError("unknown runs subcommand '" + a.positional[0] + "' (list, show, compare)");
}

int metricsCommand(const Words& words) {
  auto a = CliArgs::parse(words, {"wide"}, {"db", "run", "csv", "key"});
  if (a.positional.empty() || a.positional[0] != "export")
    throw UserError("usage: metrics export --run ID --csv OUT");
  if (!a.has("run") || !a.has("csv")) throw UserError("metrics export needs --run ID and --csv OUT");
  auto store = openStore(a, /*mustExist=*/true, /*readOnly=*/true);
  int64_t id = parseRunId(a.get("run"));
  if (!store->run(id)) throw UserError("no run with id " + std::to_string(id));
  auto points = store->metrics(id, a.get("key"));
  std::ostringstream csv;
  if (a.has("wide"))
    writeMetricsWide(csv, points);
  else
    writeMetricsLong(csv, id, points);
  const std::string out = a.get("csv");
  if (out == "-") {
    std::cout << csv.str();
  } else {
    std::ofstream f(out);
    if (!f) throw UserError("cannot write " + out);
    f << csv.str();
    std::fprintf(stderr, "wrote %zu rows to %s\n", points.size(), out.c_str());
  }
  return 0;
}

}  // namespace moelab::cli
