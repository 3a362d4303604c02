// params, export-weights: commands that build or load a model without training it.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/CliCommon.h"
#include "cli/TorchCommands.h"
#include "data/DataLocator.h"
#include "data/LmDataset.h"
#include "io/CheckpointExport.h"
#include "io/SafetensorsWriter.h"
#include "io/WeightExport.h"
#include "train/Trainer.h"
#include "util/Errors.h"

namespace moelab::cli {

int64_t vocabForConfig(const ExperimentConfig& cfg, const std::string& dataDir) {
  if (cfg.model.vocabSize > 0) return cfg.model.vocabSize;
  if (cfg.data.tokenizer == "gpt2") return 50257;  // GPT-2's fixed vocabulary (encoder.json has ids 0..50256)
  return LmDataset::load(cfg, DataLocator(dataDir)).tokenizer->vocabSize();
}

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
  if (cfg.model.expertParallel > 1)
    out["training_memory_bytes_per_rank"] = {
        {"ranks", cfg.model.expertParallel},
        {"total",
         estimateTrainingMemory(modelCfg, cfg.train.batchSize, int(cfg.model.expertParallel)).totalBytes()}};
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
  if (cfg.model.expertParallel > 1) {
    const int ranks = int(cfg.model.expertParallel);
    std::printf("  per rank of train --nproc %d (expert parallel, batch shared out): %s\n", ranks,
                estimateTrainingMemory(modelCfg, cfg.train.batchSize, ranks).describe().c_str());
  }
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
