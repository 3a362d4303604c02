// profile and reassign: how unevenly a trained sparse model routes tokens, what changing the
// assignment costs in perplexity, and what it saves in simulated all-to-all time.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/CliCommon.h"
#include "cli/Commands.h"
#include "data/LmDataset.h"
#include "profile/ReassignmentStudy.h"
#include "profile/RoutingProfiler.h"
#include "sim/Scenario.h"
#include "util/Errors.h"

namespace moelab::cli {
namespace {

// The model and the samples to route, as `profile` and `reassign` read them.
struct ProfileInput {
  std::string checkpoint;
  LoadedModel model;
  TextSource text;
  TokenSplit samples;
};

ProfileInput loadProfileInput(const CliArgs& a, const std::string& checkpoint) {
  ProfileInput in{checkpoint, loadModel(checkpoint, a.get("data-dir")), {}, {}};
  const auto& cfg = in.model.config;
  in.text = textSourceFromArgs(a, cfg, "valid");
  const int64_t cap = a.has("max-samples") ? a.getInt("max-samples", 0) : cfg.data.numEvalSamples;
  in.samples = LmDataset::tokenize(in.text.lines, *in.model.tokenizer, cfg.data, cfg.model.maxSeqLength, cap,
                                   cfg.train.ignoreTokenZero);
  if (in.samples.size() == 0) throw UserError(in.text.label + ": no samples to profile");
  return in;
}

RoutingProfile profileOf(ProfileInput& in, const CliArgs& a, const ReassignSpec& strategy,
                         const std::string& what) {
  ProfileOptions o;
  o.batchSize = a.getInt("batch-size", in.model.config.train.batchSize);
  o.positionBuckets = a.getInt("positions", 0);
  o.shards = a.getInt("shards", 0);
  o.strategy = strategy;
  ProgressBar bar(what);
  o.progress = std::ref(bar);
  RoutingProfile p = profileRouting(in.model.model, in.samples, in.text.label, o);
  if (!std::isfinite(p.loss))
    throw UserError("profiling " + in.checkpoint +
                    " gave a non-finite loss: the weights are damaged or the run diverged");
  return p;
}

std::string maxMinText(double v) {
  if (!std::isfinite(v)) return "inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

void printProfile(const RoutingProfile& p) {
  std::printf(
      "%s routing over %s (%ld samples, %ld tokens, strategy %s): loss %.4f  perplexity %.2f  in %.2f s\n",
      p.architecture.c_str(), p.source.c_str(), long(p.samples), long(p.tokens), p.strategy.c_str(), p.loss,
      p.perplexity, p.seconds);
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
void compareWithParent(ExperimentStore& store, int64_t run, const RoutingProfile& child, const CliArgs& a) {
  const auto params = store.params(run);
  if (!params.contains("init_from.run")) return;
  const int64_t parent =
      std::stoll(params["init_from.run"].is_string() ? params["init_from.run"].get<std::string>()
                                                     : params["init_from.run"].dump());
  std::optional<RoutingProfile> before;
  for (const auto& rec : store.analyses(parent, "routing_profile")) {
    auto p = RoutingProfile::fromJson(rec.content);
    if (p.source == child.source && p.strategy == "none" && p.samples == child.samples) before = p;
  }
  if (!before) {
    std::fprintf(stderr, "profiling parent run %ld on the same text...\n", long(parent));
    ProfileInput in = loadProfileInput(a, store.checkpointPath(parent, a.get("which", "best") == "best"));
    before = profileOf(in, a, {}, "parent");
    store.addAnalysis(parent, "routing_profile", before->source + " " + before->strategy, before->toJson());
  }
  const double g0 = before->mean().gini, g1 = child.mean().gini;
  std::printf("versus parent run %ld: Gini %.4f -> %.4f (%+.1f%%), perplexity %.2f -> %.2f (%+.2f%%)\n",
              long(parent), g0, g1, g0 > 0 ? 100 * (g1 - g0) / g0 : 0.0, before->perplexity, child.perplexity,
              100 * (child.perplexity - before->perplexity) / before->perplexity);
}

}  // namespace

int profileCommand(const Words& words) {
  auto a = CliArgs::parse(words, {"json", "no-store"},
                          {"run", "checkpoint", "which", "db", "split", "file", "strategy", "positions",
                           "shards", "max-samples", "batch-size", "csv", "data-dir", "threads"});
  const std::string checkpoint = checkpointFromArgs(a, a.get("which", "best"));
  setThreads(a.getInt("threads", 0));
  ProfileInput in = loadProfileInput(a, checkpoint);
  const RoutingProfile p = profileOf(in, a, ReassignSpec::parse(a.get("strategy", "none")), "profile");
  nlohmann::json out = p.toJson();
  out["checkpoint"] = checkpoint;
  out["step"] = in.model.step;
  std::unique_ptr<ExperimentStore> store;
  if (a.has("run") && !a.has("no-store")) {
    store = openStore(a, /*mustExist=*/true);
    out["profile_id"] =
        store->addAnalysis(parseRunId(a.get("run")), "routing_profile", p.source + " " + p.strategy, out);
  }
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
  if (store) {
    std::printf("stored as profile %ld of run %s (moelab-cli simulate SCENARIO --traffic-from-profile %ld)\n",
                long(out["profile_id"].get<int64_t>()), a.get("run").c_str(),
                long(out["profile_id"].get<int64_t>()));
    compareWithParent(*store, parseRunId(a.get("run")), p, a);
  }
  return 0;
}

int reassignCommand(const Words& words) {
  auto a = CliArgs::parse(words, {"json", "no-store"},
                          {"run", "checkpoint", "which", "db", "split", "file", "strategies", "cluster",
                           "scenario", "set", "max-samples", "batch-size", "csv", "data-dir", "threads"});
  if (a.has("cluster") && a.has("scenario"))
    throw UserError("give --cluster PRESET or --scenario FILE (whose cluster section names one), not both");
  std::vector<ReassignSpec> strategies;
  std::stringstream list(a.get("strategies", "balanced,round_robin,random,topk_filtered,temperature"));
  for (std::string s; std::getline(list, s, ',');)
    if (!s.empty() && s != "none") strategies.push_back(ReassignSpec::parse(s));
  // The network the step times are simulated on: a scenario file or the simulator's defaults,
  // with --cluster and --set applied; the traffic comes from each strategy's measured counts.
  nlohmann::json doc = a.has("scenario")
                           ? sim::Scenario::schema().readDocument(a.get("scenario"), a.all("set"))
                           : nlohmann::json::object();
  if (!a.has("scenario"))
    for (const auto& s : a.all("set")) sim::Scenario::schema().applyOverride(doc, s);
  if (a.has("cluster")) sim::Scenario::schema().applyOverride(doc, "cluster.preset=" + a.get("cluster"));

  const std::string checkpoint = checkpointFromArgs(a, a.get("which", "best"));
  setThreads(a.getInt("threads", 0));
  ProfileInput in = loadProfileInput(a, checkpoint);
  ReassignmentStudy study;
  study.strategies = strategies;
  study.scenarioDoc = doc;
  study.profile.batchSize = a.getInt("batch-size", in.model.config.train.batchSize);
  ProgressBar bar("reassign");
  study.progress = [&](int64_t row, int64_t rows, const std::string&, int64_t done, int64_t total) {
    return bar(row * total + done, rows * total);
  };
  nlohmann::json out = runReassignmentStudy(in.model.model, in.samples, in.text.label, study);
  out["checkpoint"] = checkpoint;
  out["step"] = in.model.step;
  const std::string cluster =
      out["cluster"].get<std::string>() + " (" + std::to_string(out["gpus"].get<int>()) + " GPUs)";
  const auto& rows = out["rows"];
  if (a.has("run") && !a.has("no-store")) {
    auto store = openStore(a, /*mustExist=*/true);
    out["reassignment_id"] =
        store->addAnalysis(parseRunId(a.get("run")), "reassignment", in.text.label + " on " + cluster, out);
  }
  if (a.has("csv")) {
    std::ofstream csv(a.get("csv"));
    if (!csv) throw UserError("cannot write " + a.get("csv"));
    writeReassignmentCsv(csv, out);
  }
  if (a.has("json")) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::printf("reassignment over %s (%ld samples), all-to-all simulated on %s:\n", in.text.label.c_str(),
              long(in.samples.size()), cluster.c_str());
  std::printf("%-16s %11s %9s %8s %8s %9s %6s %12s %9s\n", "strategy", "perplexity", "change", "gini", "cv",
              "max/mean", "dead", "all-to-all ms", "change");
  for (const auto& r : rows)
    std::printf("%-16s %11.2f %+8.2f%% %8.4f %8.4f %9.3f %6ld %13.3f %+8.1f%%\n",
                r["strategy"].get<std::string>().c_str(), r["perplexity"].get<double>(),
                100 * r["perplexity_change"].get<double>(), r["gini"].get<double>(), r["cv"].get<double>(),
                r["max_mean"].get<double>(), long(r["dead"].get<int64_t>()), r["alltoall_ms"].get<double>(),
                100 * r["alltoall_change"].get<double>());
  return 0;
}

}  // namespace moelab::cli
