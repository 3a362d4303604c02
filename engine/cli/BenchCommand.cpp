// bench: the training-step benchmark, in one process or data parallel (--nproc N: the same global
// batch on one process and on N ranks, side by side, with the scaling efficiency).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "bench/TrainBench.h"
#include "cli/CliCommon.h"
#include "cli/DistributedLaunch.h"
#include "cli/TorchCommands.h"
#include "dist/DistributedContext.h"
#include "sim/Scenario.h"
#include "util/Errors.h"
#include "util/OpenMpWaitPolicy.h"

namespace moelab::cli {
namespace {

nlohmann::json profileJson(const OpProfile& p) {
  nlohmann::json ops = nlohmann::json::array();
  for (const auto& o : p.ops)
    ops.push_back({{"name", o.name}, {"self_seconds", o.selfSeconds}, {"calls", o.calls}});
  return {{"step_seconds", p.totalSeconds},
          {"gemm_seconds", p.gemmSeconds},
          {"other_seconds", p.totalSeconds - p.gemmSeconds},
          {"ops", ops}};
}

// The simulator's all-to-all time per step for this bench's traffic (rank 0's routed counts per MoE
// layer) on a one-node cluster of the ranks, whose link is the one measured (loopback Gloo): its
// bandwidth, and the small-message time as the per-collective latency. Flat efficiency, no extra
// per-peer cost: everything the model is told here was measured in this run.
nlohmann::json simulatedExchange(const ExperimentConfig& cfg, const BenchResult& r) {
  nlohmann::json doc = {
      {"cluster",
       {{"preset", "dgx-h100"},
        {"nodes", 1},
        {"gpus_per_node", r.worldSize},
        {"intra_gbps", r.linkBytesPerSecond / 1e9},
        {"intra_latency_us", r.linkFloorSeconds * 1e6},
        {"intra_efficiency", {{1, 1.0}, {1e12, 1.0}}}}},
      {"model",
       {{"num_experts", cfg.model.numExperts},
        {"top_k", cfg.model.topK},
        {"hidden", cfg.model.embedDim},
        {"tokens_per_gpu", r.batchSize / r.worldSize * r.seqLength},
        {"dispatch_bytes", 4},
        {"combine_bytes", 4},
        {"backward", true},
        {"backward_bytes", 4}}},
      {"comm", {{"algorithm", "flat"}, {"launch_us", 0}, {"per_peer_us", 0}, {"nvlink_efficiency", 1.0}}},
      {"sim", {{"steps", 20}, {"seed", 1}}}};
  sim::MeasuredTraffic traffic;
  traffic.counts = r.expertCounts;
  traffic.topK = int(cfg.model.topK);
  doc = sim::withMeasuredTraffic(doc, traffic);
  auto times = sim::simulateStepTimes(sim::Scenario::fromJson(doc));
  std::sort(times.begin(), times.end());
  return {{"scenario", doc},
          {"predicted_alltoall_seconds", times[times.size() / 2]},
          {"link_floor_us", r.linkFloorSeconds * 1e6},
          {"link_gbytes_per_second", r.linkBytesPerSecond / 1e9},
          {"replayed_alltoall_seconds", r.allToAllReplaySeconds}};
}

int benchInProcess(const CliArgs& a, DistributedContext* dist) {
  auto overrides = a.all("set");
  if (a.has("threads")) overrides.push_back("train.threads=" + a.get("threads"));
  auto cfg = ExperimentConfig::load(a.positional[0], overrides);
  setThreads(cfg.train.threads);
  int steps = int(a.getInt("steps", 5)), warmup = int(a.getInt("warmup", 1));
  if (steps < 1) throw UserError("--steps: expected an integer >= 1");
  BenchResult r =
      benchTraining(cfg, vocabForConfig(cfg, a.get("data-dir")), steps, warmup, a.has("op-shapes"), dist);
  nlohmann::json out = {{"config", a.positional[0]},
                        {"architecture", cfg.model.architecture},
                        {"parameters", r.parameters},
                        {"batch_size", r.batchSize},
                        {"seq_length", r.seqLength},
                        {"threads", r.threads},
                        {"steps", r.steps},
                        {"step_seconds", r.stepSeconds},
                        {"median_step_seconds", r.medianStepSeconds},
                        {"tokens_per_second", r.tokensPerSecond},
                        {"median_forward_backward_seconds", r.medianForwardBackwardSeconds},
                        {"median_optimizer_seconds", r.medianOptimizerSeconds},
                        {"median_forward_seconds", r.medianForwardSeconds},
                        {"median_backward_seconds", r.medianBackwardSeconds},
                        {"flops_per_token", r.flopsPerToken},
                        {"achieved_gflops", r.achievedGflops},
                        {"matmul_gflops", r.matmulGflops},
                        {"peak_matmul_gflops", r.peakMatmulGflops},
                        {"reference_gflops", r.referenceGflops},
                        {"reference_gflops_samples", r.referenceSamples},
                        {"mfu", r.mfu},
                        {"profile", profileJson(r.profile)},
                        {"peak_rss_mb", r.peakRssMb},
                        {"omp_wait_policy", openMpWaitPolicy()}};
  if (r.worldSize > 1) {
    nlohmann::json ranks = nlohmann::json::array();
    for (const auto& k : r.ranks)
      ranks.push_back({{"compute_seconds", k.computeSeconds},
                       {"allreduce_seconds", k.allReduceSeconds},
                       {"idle_seconds", k.idleSeconds},
                       {"alltoall_seconds", k.allToAllSeconds}});
    out["world_size"] = r.worldSize;
    out["ranks"] = ranks;
    out["allreduce_bytes_per_rank"] = r.allReduceBytes;
    out["alltoall_bytes_rank0"] = r.allToAllBytes;
    if (!r.expertCounts.empty()) out["simulated"] = simulatedExchange(cfg, r);
  }
  if (dist && dist->rank() != 0) return 0;  // rank 0 reports for the job
  if (a.has("result-file")) {
    std::ofstream(a.get("result-file")) << out.dump(2) << "\n";
    return 0;
  }
  if (a.has("json")) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::printf("%s: %.2fM parameters, batch %ldx%ld, %ld threads (OpenMP wait %s), %ld timed steps\n",
              cfg.model.architecture.c_str(), double(r.parameters) / 1e6, long(r.batchSize),
              long(r.seqLength), long(r.threads), openMpWaitPolicy(), long(r.steps));
  std::printf("  step time (median)   %.3f s  (forward %.3f s, backward %.3f s, clip+optimizer %.3f s)\n",
              r.medianStepSeconds, r.medianForwardSeconds, r.medianBackwardSeconds, r.medianOptimizerSeconds);
  std::printf("  tokens/s             %.0f\n", r.tokensPerSecond);
  std::printf("  model FLOPs/token    %.1f MFLOP (fwd+bwd)\n  achieved             %.1f GFLOP/s\n",
              r.flopsPerToken / 1e6, r.achievedGflops);
  for (auto& [k, v] : r.matmulGflops) std::printf("  matmul %-14s %.1f GFLOP/s\n", k.c_str(), v);
  const auto [lo, hi] = std::minmax_element(r.referenceSamples.begin(), r.referenceSamples.end());
  std::printf("  (2048^3: median of %zu samples between steps, %.0f-%.0f GFLOP/s)\n",
              r.referenceSamples.size(), *lo, *hi);
  std::printf("  MFU                  %.1f%% of the 2048^3 rate (%.1f%% of the best, %.1f GFLOP/s)\n",
              100 * r.mfu, 100 * r.achievedGflops / r.peakMatmulGflops, r.peakMatmulGflops);
  std::printf("  peak RSS             %.0f MB\n", r.peakRssMb);
  const OpProfile& p = r.profile;
  std::printf("one profiled step: %.3f s, GEMMs %.3f s (%.0f%%), everything else %.3f s; by self time:\n",
              p.totalSeconds, p.gemmSeconds, 100 * p.gemmSeconds / p.totalSeconds,
              p.totalSeconds - p.gemmSeconds);
  for (size_t i = 0; i < p.ops.size() && i < (a.has("op-shapes") ? 30 : 12); ++i)
    std::printf("  %-34s %8.1f ms %5.1f%% %6ld calls\n", p.ops[i].name.c_str(), p.ops[i].selfSeconds * 1e3,
                100 * p.ops[i].selfSeconds / p.totalSeconds, long(p.ops[i].calls));
  return 0;
}

nlohmann::json runForResult(RankLaunch launch, const std::string& file, const char* what) {
  launch.args.push_back("--result-file");
  launch.args.push_back(file);
  const RankLaunchResult r = launchRanks(launch);
  if (r.exitCode != 0)
    throw std::runtime_error(std::string("bench: the ") + what + " measurement failed" +
                             (r.failure.empty() ? "" : ": " + r.failure));
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}

// One process with every thread, then N ranks sharing them, on the same global batch.
int benchScaling(const RankLaunch& plan, const CliArgs& a) {
  if (plan.nnodes > 1) throw UserError("bench --nproc measures ranks on this machine; --nnodes is for train");
  char tmpl[] = "/tmp/moelab-bench-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("bench: cannot create a temporary folder");
  const std::string dir = tmpl;
  RankLaunch one = plan;
  one.nproc = 1;
  one.args.back() = std::to_string(std::stoll(plan.args.back()) * plan.nproc);  // --threads: all of them
  std::fprintf(stderr, "bench: one process with %s threads, then %d ranks with %s each\n",
               one.args.back().c_str(), plan.nproc, plan.args.back().c_str());
  one.args.insert(one.args.end(), {"--set", "model.expert_parallel=1"});  // one process: every expert
  nlohmann::json single, ranks;
  try {
    single = runForResult(one, dir + "/single.json", "single-process");
    ranks = runForResult(plan, dir + "/ranks.json", "data-parallel");
  } catch (...) {
    std::filesystem::remove_all(dir);
    throw;
  }
  std::filesystem::remove_all(dir);
  const double efficiency =
      ranks["tokens_per_second"].get<double>() / single["tokens_per_second"].get<double>();
  if (a.has("json")) {
    std::cout << nlohmann::json{{"single", single},
                                {"data_parallel", ranks},
                                {"scaling_efficiency", efficiency}}
                     .dump(2)
              << "\n";
    return 0;
  }
  std::printf("%s, global batch %ldx%ld, %ld timed steps\n", ranks["architecture"].get<std::string>().c_str(),
              long(ranks["batch_size"]), long(ranks["seq_length"]), long(ranks["steps"]));
  std::printf("  one process, %ld threads     step %.3f s  %.0f tokens/s\n", long(single["threads"]),
              single["median_step_seconds"].get<double>(), single["tokens_per_second"].get<double>());
  std::printf("  %ld ranks x %ld threads (gloo)  step %.3f s  %.0f tokens/s  scaling efficiency %.0f%%\n",
              long(ranks["world_size"]), long(ranks["threads"]), ranks["median_step_seconds"].get<double>(),
              ranks["tokens_per_second"].get<double>(), 100 * efficiency);
  std::printf("  gradient all-reduce: %.1f MB per rank per step",
              ranks["allreduce_bytes_per_rank"].get<double>() / 1e6);
  if (ranks["alltoall_bytes_rank0"].get<double>() > 0)
    std::printf(
        "; expert all-to-all: %.2f MB sent by rank 0 per step (dispatch + combine, forward + backward)",
        ranks["alltoall_bytes_rank0"].get<double>() / 1e6);
  if (ranks.contains("simulated")) {
    const auto& sim = ranks["simulated"];
    std::printf(
        "\n  network simulator, the same traffic on the measured loopback link (%.0f us per collective, "
        "%.2f GB/s): %.1f ms of all-to-all per step\n  measured on rank 0: %.1f ms in the training step "
        "(with "
        "the count exchanges), %.1f ms for the same exchanges replayed alone (each after a barrier); the "
        "difference is waiting for the other ranks",
        sim["link_floor_us"].get<double>(), sim["link_gbytes_per_second"].get<double>(),
        1e3 * sim["predicted_alltoall_seconds"].get<double>(),
        1e3 * ranks["ranks"][0]["alltoall_seconds"].get<double>(),
        1e3 * sim["replayed_alltoall_seconds"].get<double>());
  }
  std::printf("\n  per rank (medians)     compute    all-reduce wait   idle (loss exchange)   all-to-all\n");
  int k = 0;
  for (const auto& r : ranks["ranks"])
    std::printf("    rank %-3d           %7.3f s   %7.3f s         %7.3f s              %7.3f s\n", k++,
                r["compute_seconds"].get<double>(), r["allreduce_seconds"].get<double>(),
                r["idle_seconds"].get<double>(), r["alltoall_seconds"].get<double>());
  return 0;
}

}  // namespace

int benchCommand(const Words& words) {
  std::set<std::string> valueNames = {"steps", "warmup", "set", "threads", "data-dir", "result-file"};
  valueNames.insert(distributedOptions().begin(), distributedOptions().end());
  auto a = CliArgs::parse(words, {"json", "op-shapes"}, valueNames);
  if (a.positional.size() != 1) throw UserError("bench takes one CONFIG file");
  if (auto plan = planLaunch("bench", words, a)) return benchScaling(*plan, a);
  return runAsRank([&](DistributedContext* dist) { return benchInProcess(a, dist); });
}

}  // namespace moelab::cli
