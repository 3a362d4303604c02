// simulate: the all-to-all network simulator for expert-parallel MoE.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli/CliArgs.h"
#include "cli/CliCommon.h"
#include "cli/Commands.h"
#include "profile/RoutingProfile.h"
#include "sim/Scenario.h"
#include "sim/ScenarioCsv.h"
#include "store/ExperimentStore.h"
#include "store/ExpertArtifacts.h"
#include "util/Errors.h"

namespace moelab::cli {

int simulateCommand(const Words& words) {
  auto a = CliArgs::parse(words, {"json", "bench"},
                          {"set", "csv", "db", "traffic-from-run", "step", "traffic-from-profile"});
  if (a.positional.size() != 1) throw UserError("simulate takes one SCENARIO.json");
  if (a.has("step") && !a.has("traffic-from-run"))
    throw UserError("simulate: --step picks the log step of --traffic-from-run ID; pass both or neither");
  if (a.has("traffic-from-run") && a.has("traffic-from-profile"))
    throw UserError("simulate: give --traffic-from-run or --traffic-from-profile, not both");
  sim::Scenario scenario;
  if (a.has("traffic-from-profile")) {
    // A stored routing profile's per-layer counts (moelab-cli profile) as the traffic.
    auto store = openStore(a, /*mustExist=*/true, /*readOnly=*/true);
    const int64_t id = a.getInt("traffic-from-profile", 0);
    const auto rec = store->analysis(id);
    if (!rec || rec->kind != "routing_profile")
      throw UserError("no routing profile with id " + std::to_string(id) +
                      " in this database (moelab-cli profile lists the id it stores)");
    const RoutingProfile p = RoutingProfile::fromJson(rec->content);
    if (p.layers.empty())
      throw UserError("profile " + std::to_string(id) + " is of a " + p.architecture +
                      " model: it has no routed traffic");
    auto doc = sim::Scenario::schema().readDocument(a.positional[0], a.all("set"));
    const sim::MeasuredTraffic traffic = p.traffic();
    scenario = sim::Scenario::fromJson(sim::withMeasuredTraffic(doc, traffic));
    std::fprintf(
        stderr,
        "traffic: profile %lld of run %lld (%s, strategy %s), %zu MoE layers x %lld experts, top-%d%s\n",
        (long long)id, (long long)rec->run, p.source.c_str(), p.strategy.c_str(), p.layers.size(),
        (long long)p.experts, scenario.topK, sim::sourcesNote(traffic, scenario.cluster.gpus()).c_str());
  } else if (a.has("traffic-from-run")) {
    for (const auto& set : a.all("set"))
      for (const char* taken : {"traffic.", "model.num_experts=", "model.layers=", "model.top_k="})
        if (set.rfind(taken, 0) == 0)
          std::fprintf(stderr, "note: --set %s is replaced by the run's measured routing\n", set.c_str());
    // A sparse_moe run's measured expert counts as the traffic (see sim::withMeasuredTraffic).
    auto doc = sim::Scenario::schema().readDocument(a.positional[0], a.all("set"));
    auto store = openStore(a, /*mustExist=*/true, /*readOnly=*/true);
    const int64_t run = a.getInt("traffic-from-run", 0);
    const auto rec = store->run(run);
    if (!rec) throw UserError("run " + std::to_string(run) + " is not in this database");
    int64_t used = -1;
    auto counts = runExpertCounts(*store, run, a.getInt("step", -1), &used);
    const int topK = int(rec->config.value("model", nlohmann::json::object()).value("top_k", 0));
    scenario = sim::Scenario::fromJson(sim::withMeasuredTraffic(doc, {counts, {}, topK}));
    std::fprintf(stderr, "traffic: run %lld, step %lld, %zu MoE layers x %zu experts, top-%d\n",
                 (long long)run, (long long)used, counts.size(), counts.front().size(), scenario.topK);
  } else {
    scenario = sim::Scenario::load(a.positional[0], a.all("set"));
  }
  if (a.has("bench")) {
    // Times the configured variant alone: traffic generation plus every all-to-all of every step.
    auto medianOf = [](auto&& fn) {
      std::vector<double> runs;
      for (int i = 0; i < 5; ++i) {
        auto start = std::chrono::steady_clock::now();
        fn();
        runs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
      std::sort(runs.begin(), runs.end());
      return runs[2];
    };
    // The configured variant alone (traffic generation plus every all-to-all of every step), and the
    // whole result with every comparison row, as the GUI recomputes it after an edit.
    double variant = medianOf([&] { sim::simulateStepTimes(scenario); });
    double full = medianOf([&] { sim::runScenario(scenario); });
    nlohmann::json out = {{"gpus", scenario.cluster.gpus()},   {"experts", scenario.experts},
                          {"steps", scenario.steps},           {"layers", scenario.layers},
                          {"variant_median_seconds", variant}, {"full_result_median_seconds", full}};
    if (a.has("json"))
      std::cout << out.dump(2) << "\n";
    else
      std::printf(
          "%d GPUs, %d experts, %d steps x %d layers: configured variant %.1f ms, full result with "
          "comparisons %.1f ms (medians of 5)\n",
          scenario.cluster.gpus(), scenario.experts, scenario.steps, scenario.layers, variant * 1e3,
          full * 1e3);
    return 0;
  }
  auto result = sim::runScenario(scenario);
  if (a.has("csv")) {
    std::ofstream csv(a.get("csv"));
    if (!csv) throw UserError("cannot write " + a.get("csv"));
    sim::writeComparisonCsv(csv, result);
  }
  if (a.has("json")) {
    std::cout << result.dump() << "\n";
    return 0;
  }
  const auto& st = result["step_ms"];
  std::printf(
      "%s: %d nodes x %d GPUs, %d experts (top-%d), %s traffic, %s placement, %s dispatch, %d steps\n",
      scenario.cluster.name.c_str(), scenario.cluster.nodes, scenario.cluster.gpusPerNode, scenario.experts,
      scenario.topK, scenario.traffic.kind.c_str(), scenario.placement.c_str(),
      result["algorithm"].get<std::string>().c_str(), scenario.steps);
  std::printf("all-to-all time per step: mean %.3f ms  P50 %.3f  P95 %.3f  P99 %.3f  (%.2fx balanced)\n",
              st["mean"].get<double>(), st["p50"].get<double>(), st["p95"].get<double>(),
              st["p99"].get<double>(), result["slowdown_vs_balanced"].get<double>());
  const auto& b = result["breakdown"];
  std::printf(
      "first-layer dispatch %.3f ms = bandwidth %.3f + imbalance %.3f + per-peer %.3f + latency %.3f ms\n\n",
      b["dispatch_ms"].get<double>(), b["bandwidth_ms"].get<double>(), b["imbalance_ms"].get<double>(),
      b["per_peer_ms"].get<double>(), b["latency_ms"].get<double>());
  // Per collective of the first MoE layer, in nccl-tests' terms (docs/NETWORK_SIM.md).
  std::printf("%-18s %10s %12s %12s %10s %10s %8s %9s\n", "collective", "time us", "MB/GPU", "NIC MB/GPU",
              "algbw GB/s", "busbw GB/s", "copies", "bound by");
  for (const auto& c : result["collectives"])
    std::printf("%-18s %10.1f %12.3f %12.3f %10.1f %10.1f %8.2f %9s\n", c["name"].get<std::string>().c_str(),
                c["time_us"].get<double>(), c["bytes_per_gpu"].get<double>() / 1e6,
                c["nic_bytes_per_gpu"].get<double>() / 1e6, c["algbw_GBps"].get<double>(),
                c["busbw_GBps"].get<double>(),
                result["algorithm"] == "hierarchical" ? c["node_copies_per_token"].get<double>()
                                                      : c["expert_copies_per_token"].get<double>(),
                c["bound_by"].get<std::string>().c_str());
  std::printf("\n%-44s %10s %10s %9s %12s %10s\n", "scenario", "mean ms", "P99 ms", "slowdown", "GB/step",
              "bottleneck");
  for (const auto& r : result["comparison"])
    std::printf("%-44s %10.3f %10.3f %8.2fx %12.3f %10s\n", r["name"].get<std::string>().c_str(),
                r["mean_ms"].get<double>(), r["p99_ms"].get<double>(),
                r["slowdown_vs_balanced"].get<double>(), r["bytes_per_step"].get<double>() / 1e9,
                r["bottleneck"].get<std::string>().c_str());
  for (const auto& r : result["skipped"])
    std::printf("  (no row for %s: %s)\n", r["name"].get<std::string>().c_str(),
                r["reason"].get<std::string>().c_str());
  if (result.contains("validation")) {
    const auto& v = result["validation"];
    std::printf("\nvalidation: %s of %s, model %.2f vs published %.2f (%+.1f%%)\n  source: %s\n",
                v["metric"].get<std::string>().c_str(), v["collective"].get<std::string>().c_str(),
                v["model"].get<double>(), v["reference"].get<double>(), 100 * v["error"].get<double>(),
                v["source"].get<std::string>().c_str());
  }
  return 0;
}

}  // namespace moelab::cli
