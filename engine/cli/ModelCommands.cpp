// params, bench, export-weights: commands that build or load a model without training it.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "bench/TrainBench.h"
#include "cli/CliCommon.h"
#include "cli/TorchCommands.h"
#include "data/DataLocator.h"
#include "data/LmDataset.h"
#include "io/CheckpointExport.h"
#include "io/SafetensorsWriter.h"
#include "io/WeightExport.h"
#include "train/Trainer.h"
#include "util/Errors.h"
#include "util/OpenMpWaitPolicy.h"

namespace moelab::cli {
namespace {

// The vocabulary size a config's model will have, loading data only when the tokenizer needs it.
int64_t vocabForConfig(const ExperimentConfig& cfg, const std::string& dataDir) {
  if (cfg.model.vocabSize > 0) return cfg.model.vocabSize;
  if (cfg.data.tokenizer == "gpt2") return 50257;  // GPT-2's fixed vocabulary (encoder.json has ids 0..50256)
  return LmDataset::load(cfg, DataLocator(dataDir)).tokenizer->vocabSize();
}

}  // namespace

int paramsCommand(const Words& words) {
  auto a = CliArgs::parse(words, {"json"}, {"set", "data-dir"});
  if (a.positional.size() != 1) throw UserError("params takes one CONFIG file");
  auto cfg = ExperimentConfig::load(a.positional[0], a.all("set"));
  // Closed form: nothing is allocated, so a 1.7B-parameter preset answers at once.
  const ModelConfig modelCfg = resolveModelConfig(cfg, vocabForConfig(cfg, a.get("data-dir")));
  const ParameterBreakdown b = countParameters(modelCfg);
  const TrainingMemoryEstimate mem = estimateTrainingMemory(modelCfg, cfg.train.batchSize);
  nlohmann::json out = {{"architecture", cfg.model.architecture},
                        {"vocab_size", modelCfg.vocabSize},
                        {"total", b.total},
                        {"experts", b.experts},
                        {"gnn_coupling", b.gnnCoupling},
                        {"other", b.other},
                        {"training_memory_bytes",
                         {{"total", mem.totalBytes()},
                          {"weights", mem.weightsBytes},
                          {"gradients", mem.gradientsBytes},
                          {"optimizer", mem.optimizerBytes},
                          {"activations", mem.activationsBytes},
                          {"runtime", mem.runtimeBytes},
                          {"batch_size", cfg.train.batchSize},
                          {"seq_length", cfg.model.maxSeqLength}}}};
  if (a.has("json")) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  auto row = [&](const char* name, int64_t n) {
    std::printf(
        "  %-14s %14s  (%5.1f%%)\n", name,
        [&] {
          std::string s = std::to_string(n);
          for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(size_t(i), ",");
          return s;
        }()
            .c_str(),
        100.0 * double(n) / double(b.total));
  };
  std::printf("%s (vocab %ld)\n", cfg.model.architecture.c_str(), long(modelCfg.vocabSize));
  row("total", b.total);
  row("experts", b.experts);
  row("GNN coupling", b.gnnCoupling);
  row("other", b.other);
  std::printf("training memory at batch %ld x %ld (estimate): %s\n", long(cfg.train.batchSize),
              long(cfg.model.maxSeqLength), mem.describe().c_str());
  return 0;
}

static nlohmann::json profileJson(const OpProfile& p) {
  nlohmann::json ops = nlohmann::json::array();
  for (const auto& o : p.ops)
    ops.push_back({{"name", o.name}, {"self_seconds", o.selfSeconds}, {"calls", o.calls}});
  return {{"step_seconds", p.totalSeconds},
          {"gemm_seconds", p.gemmSeconds},
          {"other_seconds", p.totalSeconds - p.gemmSeconds},
          {"ops", ops}};
}

int benchCommand(const Words& words) {
  auto a = CliArgs::parse(words, {"json", "op-shapes"}, {"steps", "warmup", "set", "threads", "data-dir"});
  if (a.positional.size() != 1) throw UserError("bench takes one CONFIG file");
  auto overrides = a.all("set");
  if (a.has("threads")) overrides.push_back("train.threads=" + a.get("threads"));
  auto cfg = ExperimentConfig::load(a.positional[0], overrides);
  setThreads(cfg.train.threads);
  int steps = int(a.getInt("steps", 5)), warmup = int(a.getInt("warmup", 1));
  if (steps < 1) throw UserError("--steps: expected an integer >= 1");
  BenchResult r =
      benchTraining(cfg, vocabForConfig(cfg, a.get("data-dir")), steps, warmup, a.has("op-shapes"));
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

int exportWeightsCommand(const Words& words) {
  auto a = CliArgs::parse(words, {}, {"run", "checkpoint", "db", "out", "which"});
  if (!a.has("out")) throw UserError("export-weights needs --out FILE.safetensors");
  const std::string which = a.get("which", "best");
  if (which != "best" && which != "last")
    throw UserError("--which: expected best or last, got \"" + which + "\"");
  if (a.has("which") && a.has("checkpoint")) throw UserError("--which applies to --run, not --checkpoint");
  const std::string path = checkpointFromArgs(a, which);
  const WeightExportSummary s = exportCheckpointWeights(path, a.get("out"));
  const std::string& taken = s.taken;
  std::fprintf(
      stderr,
      "wrote %zu tensors (layout moelab-weights-v1, see docs/WEIGHTS.md) from %s (%s, step %ld) to %s\n",
      s.tensors, path.c_str(), taken.c_str(), long(s.step), a.get("out").c_str());
  if (a.has("run") && which == "best" && taken != "best")
    std::fprintf(stderr, "note: run has no best.pt yet (no evaluation finished); exported last.pt\n");
  return 0;
}

}  // namespace moelab::cli
