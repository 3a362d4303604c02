// profile and reassign: how unevenly a trained sparse model routes tokens, what changing the
// assignment costs in perplexity, and what it saves in simulated all-to-all time.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "cli/CliCommon.h"
#include "cli/TorchCommands.h"
#include "profile/ProfileJob.h"
#include "profile/ReassignmentStudy.h"
#include "profile/RoutingProfile.h"
#include "sim/Scenario.h"
#include "util/Errors.h"

namespace moelab::cli {
namespace {

// The job `profile` and `reassign` run, from their common options.
ProfileJobRequest requestFromArgs(const CliArgs& a) {
  ProfileJobRequest r;
  r.checkpoint = checkpointFromArgs(a, a.get("which", "best"));
  if (a.has("run")) {
    r.database = a.get("db", "moelab.db");
    r.run = parseRunId(a.get("run"));
  }
  r.which = a.get("which", "best");
  r.split = splitFromArgs(a, "valid");
  r.file = a.get("file");
  r.dataDir = a.get("data-dir");
  r.maxSamples = a.has("max-samples") ? a.getInt("max-samples", 0) : -1;
  r.batchSize = a.getInt("batch-size", 0);
  if (a.has("batch-size") && r.batchSize < 1) throw UserError("--batch-size must be at least 1");
  r.store = !a.has("no-store");
  return r;
}

std::string maxMinText(double v) {
  if (!std::isfinite(v)) return "inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

void printProfile(const RoutingProfile& p) {
  std::printf("%s routing over %s (%ld samples, %ld tokens, strategy %s) in %.2f s", p.architecture.c_str(),
              p.source.c_str(), long(p.samples), long(p.tokens), p.strategy.c_str(), p.seconds);
  if (p.lossMeasured)
    std::printf(": loss %.4f  perplexity %.2f\n", p.loss, p.perplexity);
  else
    std::printf(" (perplexity not measured: --perplexity)\n");
  if (!p.layers.empty()) {
    std::printf("%-6s %8s %8s %9s %9s %9s %6s %9s\n", "layer", "gini", "cv", "entropy", "max/mean", "max/min",
                "dead", "dropped");
    for (size_t l = 0; l <= p.layers.size(); ++l) {
      const bool mean = l == p.layers.size();
      const LoadImbalance m = mean ? p.mean() : p.layers[l].imbalance();
      const double dropped = mean ? 0 : m.total > 0 ? double(p.layers[l].dropped) / m.total : 0;
      std::printf("%-6s %8.4f %8.4f %9.4f %9.3f %9s %6ld %8.2f%%\n",
                  mean ? "mean" : std::to_string(l).c_str(), m.gini, m.cv, m.entropy, m.maxMean,
                  maxMinText(m.maxMin).c_str(), long(m.dead), 100 * dropped);
    }
  }
  for (size_t l = 0; l < p.couplings.size(); ++l) {
    const auto& c = p.couplings[l];
    std::printf("layer %zu: expert output shares", l);
    for (double s : c.share) std::printf(" %.3f", s);
    std::printf("\n");
  }
}

// A fine-tuned run (--init-from) against its parent on the same text: the Gini reduction and the
// perplexity change, profiling the parent when no matching profile of it is stored.
void compareWithParent(ExperimentStore& store, int64_t run, const RoutingProfile& child,
                       const ProfileJobRequest& request) {
  const auto params = store.params(run);
  if (!params.contains("init_from.run")) return;
  const int64_t parent =
      std::stoll(params["init_from.run"].is_string() ? params["init_from.run"].get<std::string>()
                                                     : params["init_from.run"].dump());
  std::optional<RoutingProfile> before;
  for (const auto& rec : store.analyses(parent, "routing_profile")) {
    auto p = RoutingProfile::fromJson(rec.content);
    if (p.source == child.source && p.strategy == "none" && p.samples == child.samples &&
        (p.lossMeasured || !child.lossMeasured))
      before = p;
  }
  if (!before) {
    std::fprintf(stderr, "profiling parent run %ld on the same text...\n", long(parent));
    ProfileJobRequest r = request;
    r.checkpoint.clear();
    r.run = parent;
    r.strategy = "none";
    r.positionBuckets = r.shards = 0;
    r.store = true;
    ProgressBar bar("parent");
    before = RoutingProfile::fromJson(runProfileJob(r, std::ref(bar)));
  }
  const double g0 = before->mean().gini, g1 = child.mean().gini;
  std::printf("versus parent run %ld: Gini %.4f -> %.4f (%+.1f%%)", long(parent), g0, g1,
              g0 > 0 ? 100 * (g1 - g0) / g0 : 0.0);
  if (child.lossMeasured)
    std::printf(", perplexity %.2f -> %.2f (%+.2f%%)\n", before->perplexity, child.perplexity,
                100 * (child.perplexity - before->perplexity) / before->perplexity);
  else
    std::printf(" (pass --perplexity for the perplexity change)\n");
}

}  // namespace

int profileCommand(const Words& words) {
  auto a = CliArgs::parse(words, {"json", "no-store", "perplexity"},
                          {"run", "checkpoint", "which", "db", "split", "file", "strategy", "positions",
                           "shards", "max-samples", "batch-size", "csv", "data-dir", "threads"});
  ProfileJobRequest r = requestFromArgs(a);
  r.strategy = a.get("strategy", "none");
  r.positionBuckets = a.getInt("positions", 0);
  r.shards = a.getInt("shards", 0);
  r.measureLoss = a.has("perplexity");
  if (r.run > 0 && r.store) openStore(a, /*mustExist=*/true);  // refuse before the work, not after
  setThreads(a.getInt("threads", 0));
  ProgressBar bar("profile");
  const nlohmann::json out = runProfileJob(r, std::ref(bar));
  const RoutingProfile p = RoutingProfile::fromJson(out);
  if (a.has("csv")) {
    std::ofstream csv(a.get("csv"));
    if (!csv) throw UserError("cannot write " + a.get("csv"));
    p.writeCsv(csv);
  }
  if (a.has("json")) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  printProfile(p);
  if (out.contains("profile_id")) {
    const long id = long(out["profile_id"].get<int64_t>());
    std::printf(
        "stored as profile %ld of run %ld (moelab-cli simulate SCENARIO --traffic-from-profile %ld)\n", id,
        long(r.run), id);
    auto store = openStore(a, /*mustExist=*/true);
    compareWithParent(*store, r.run, p, r);
  }
  return 0;
}

int reassignCommand(const Words& words) {
  auto a = CliArgs::parse(words, {"json", "no-store"},
                          {"run", "checkpoint", "which", "db", "split", "file", "strategies", "cluster",
                           "scenario", "set", "max-samples", "batch-size", "csv", "data-dir", "threads"});
  if (a.has("cluster") && a.has("scenario"))
    throw UserError("give --cluster PRESET or --scenario FILE (whose cluster section names one), not both");
  std::vector<std::string> strategies;
  std::stringstream list(a.get("strategies", "balanced,round_robin,random,topk_filtered,temperature"));
  for (std::string s; std::getline(list, s, ',');)
    if (!s.empty() && s != "none") strategies.push_back(ReassignSpec::parse(s).label());  // refused early
  // The network the step times are simulated on: a scenario file or the simulator's defaults,
  // with --cluster and --set applied; the traffic comes from each strategy's measured counts.
  nlohmann::json doc = a.has("scenario")
                           ? sim::Scenario::schema().readDocument(a.get("scenario"), a.all("set"))
                           : nlohmann::json::object();
  if (!a.has("scenario"))
    for (const auto& s : a.all("set")) sim::Scenario::schema().applyOverride(doc, s);
  if (a.has("cluster")) sim::Scenario::schema().applyOverride(doc, "cluster.preset=" + a.get("cluster"));

  ProfileJobRequest r = requestFromArgs(a);
  if (r.run > 0 && r.store) openStore(a, /*mustExist=*/true);
  setThreads(a.getInt("threads", 0));
  ProgressBar bar("reassign");
  nlohmann::json out = runReassignmentJob(r, strategies, doc, std::ref(bar));
  const std::string cluster =
      out["cluster"].get<std::string>() + " (" + std::to_string(out["gpus"].get<int>()) + " GPUs)";
  const auto& rows = out["rows"];
  if (a.has("csv")) {
    std::ofstream csv(a.get("csv"));
    if (!csv) throw UserError("cannot write " + a.get("csv"));
    writeReassignmentCsv(csv, out);
  }
  if (a.has("json")) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::printf("reassignment over %s (%ld samples), all-to-all simulated on %s:\n",
              out["source"].get<std::string>().c_str(), long(out["samples"].get<int64_t>()), cluster.c_str());
  std::printf("%-16s %11s %9s %8s %8s %9s %6s %12s %9s\n", "strategy", "perplexity", "change", "gini", "cv",
              "max/mean", "dead", "all-to-all ms", "change");
  for (const auto& row : rows)
    std::printf("%-16s %11.2f %+8.2f%% %8.4f %8.4f %9.3f %6ld %13.3f %+8.1f%%\n",
                row["strategy"].get<std::string>().c_str(), row["perplexity"].get<double>(),
                100 * row["perplexity_change"].get<double>(), row["gini"].get<double>(),
                row["cv"].get<double>(), row["max_mean"].get<double>(), long(row["dead"].get<int64_t>()),
                row["alltoall_ms"].get<double>(), 100 * row["alltoall_change"].get<double>());
  return 0;
}

}  // namespace moelab::cli
