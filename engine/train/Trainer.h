#pragma once
#include <atomic>
#include <memory>
#include <string>

#include "config/ExperimentConfig.h"
#include "data/LmDataset.h"
#include "model/LanguageModel.h"
#include "train/MetricSink.h"

namespace moelab {

enum class RunOutcome { Finished, Interrupted, Diverged };
std::string toString(RunOutcome o);

// Per-layer routing metrics ("moe/layer{l}/cv", ...), their mean and max over layers, and the
// per-expert counts as an "expert_counts" artifact.
void recordRouting(const std::vector<RoutingStats>& layers, int64_t step, double wallTime,
                   std::vector<MetricPoint>& out, MetricSink* sink);

// The model config with vocab_size resolved from the tokenizer when the config says 0.
ModelConfig resolveModelConfig(const ExperimentConfig& cfg, int64_t tokenizerVocab);

// Mean loss and perplexity over a split (no grad, eval mode); maxBatches 0 = all.
EvalResult evaluate(LanguageModel& model, const TokenSplit& split, int64_t batchSize, int64_t maxBatches);

// AdamW + cosine schedule (linear warm-up, decay to min_learning_rate) + grad clipping, periodic
// evaluation, `last`/`best` checkpoints, resume. Knows nothing of Qt or SQLite: observations go to
// the MetricSink. Polls `stop` once per step; a stop saves `last` so nothing is lost.
class Trainer {
 public:
  Trainer(const ExperimentConfig& cfg, const LmDataset& data, std::string checkpointDir, MetricSink* sink);

  // Continue from a checkpoint written by a run of the same config. Returns its step.
  int64_t resumeFrom(const std::string& checkpointPath);
  RunOutcome run(const std::atomic<bool>* stop = nullptr);

  int64_t totalSteps() const { return totalSteps_; }
  int64_t stepsPerEpoch() const { return stepsPerEpoch_; }
  double learningRateAt(int64_t step) const;
  LanguageModel& model() { return model_; }
  std::string lastCheckpointPath() const { return checkpointDir_ + "/last.pt"; }
  std::string bestCheckpointPath() const { return checkpointDir_ + "/best.pt"; }

 private:
  void save(const std::string& path);
  void evaluateAndRecord();
  std::vector<int64_t> epochOrder(int64_t epoch) const;

  ExperimentConfig cfg_;
  const LmDataset& data_;
  std::string checkpointDir_;
  MetricSink* sink_;
  LanguageModel model_{nullptr};
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  int64_t stepsPerEpoch_ = 0, totalSteps_ = 0;
  int64_t step_ = 0, epoch_ = 0, batchInEpoch_ = 0;
  double bestValLoss_;
};

}  // namespace moelab
