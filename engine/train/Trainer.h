#pragma once
#include <atomic>
#include <memory>
#include <string>

#include "config/ExperimentConfig.h"
#include "data/LmDataset.h"
#include "model/LanguageModel.h"
#include "train/Evaluation.h"
#include "train/MetricSink.h"
#include "train/RoutingMetrics.h"
#include "train/TrainStep.h"

namespace moelab {

class DistributedContext;
class GradientAllReduce;
class ExpertParallel;
class ExpertShards;

enum class RunOutcome { Finished, Interrupted, Diverged };
std::string toString(RunOutcome o);

// The model config with vocab_size resolved from the tokenizer when the config says 0.
ModelConfig resolveModelConfig(const ExperimentConfig& cfg, int64_t tokenizerVocab);

// AdamW + cosine schedule (linear warm-up, decay to min_learning_rate) + grad clipping, periodic
// evaluation on a fixed validation subset and on the whole split at the end, `last`/`best`
// checkpoints, resume. Knows nothing of Qt or SQLite: observations go to the MetricSink. Polls
// `stop` once per step; a stop saves `last` so nothing is lost.
//
// Data parallel (`dist`): every rank builds the same model (rank 0's weights are broadcast), reads
// its contiguous shard of every global batch (the configured batch size), and the gradients are
// summed with GradientAllReduce before one identical update everywhere. Evaluation is shared out;
// the stop request and time-based saves are agreed at every step; rank 0 writes the checkpoints
// (with every rank's RNG state) and is the only rank with a sink.
class Trainer {
 public:
  Trainer(const ExperimentConfig& cfg, const LmDataset& data, std::string checkpointDir, MetricSink* sink,
          DistributedContext* dist = nullptr);
  ~Trainer();

  // Continue from a checkpoint written by a run of the same config. Returns its step. When this
  // trainer's horizon (total steps) differs from the checkpoint's, throws UserError unless
  // `extendHorizon`: then the learning rate continues from its value at the checkpoint and decays
  // by cosine to min_learning_rate at the new last step (no jump).
  int64_t resumeFrom(const std::string& checkpointPath, bool extendHorizon = false);
  RunOutcome run(const std::atomic<bool>* stop = nullptr);
  // Starts a new run from another run's weights (fine-tuning): the model only; optimizer, step and
  // schedule start fresh. The caller checks the configs (checkInitFromCompatible). Returns the
  // parent checkpoint's step.
  int64_t initWeightsFrom(const std::string& checkpointPath);

  // Throws UserError when the checkpoint folder cannot be created or written, or lacks the space
  // for this model's checkpoints (run() checks it before its first step).
  void checkCheckpointFolder() const;
  int64_t totalSteps() const { return totalSteps_; }
  int64_t stepsPerEpoch() const { return stepsPerEpoch_; }
  double learningRateAt(int64_t step) const;
  LanguageModel& model() { return model_; }
  const TokenSplit& validationSet() const { return validation_; }
  // Why the run diverged ("step 4: gradient norm is nan ..."), empty otherwise.
  const std::string& divergence() const { return divergence_; }
  std::string lastCheckpointPath() const { return checkpointDir_ + "/last.pt"; }
  std::string bestCheckpointPath() const { return checkpointDir_ + "/best.pt"; }

 private:
  struct Batch {
    torch::Tensor inputs, targets, mask;  // this rank's rows
    int64_t globalTokens = 0;             // real targets in the whole global batch
  };
  Batch nextBatch();  // the batch at (epoch_, batchInEpoch_), starting a new epoch when due
  void reportStep(const StepResult& r, double lr, int64_t tokens, const std::vector<RoutingStats>& routing,
                  std::vector<MetricPoint> extra);
  // Data parallel, at logged steps: every rank's step split (compute, all-reduce wait, idle at the
  // loss exchange, expert all-to-all) as dist/rank{r}/... metrics. A collective: every rank calls it.
  std::vector<MetricPoint> rankTimings(const StepResult& r, double stepSeconds);
  void save(const std::string& path);
  EvalResult evaluateAndRecord();
  bool recordFullValidation(const EvalResult& periodic);  // false when the loss is not finite
  std::vector<int64_t> epochOrder(int64_t epoch) const;

  ExperimentConfig cfg_;
  const LmDataset& data_;
  TokenSplit validation_;  // the fixed subset (or the whole split) scored at every evaluation
  std::string checkpointDir_;
  MetricSink* sink_;
  LanguageModel model_{nullptr};
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  Precision precision_ = Precision::Fp32;  // train.precision, checked against the CPU
  int64_t stepsPerEpoch_ = 0, totalSteps_ = 0;
  int64_t step_ = 0, epoch_ = 0, batchInEpoch_ = 0;
  std::vector<int64_t> order_;  // sample order of epoch_
  int64_t orderEpoch_ = -1;
  // Cosine restart point after an extended horizon: from anchorStep_ on, the rate decays from
  // anchorRate_ to min_learning_rate at totalSteps_. anchorStep_ < 0: the plain schedule.
  int64_t anchorStep_ = -1;
  double anchorRate_ = 0;
  double bestValLoss_;
  // Throughput over this process's steps.
  double runStart_ = 0, lastSave_ = 0;
  int64_t firstStep_ = 0, tokensSeen_ = 0;
  std::string divergence_;
  DistributedContext* dist_ = nullptr;
  std::unique_ptr<GradientAllReduce> gradientSync_;
  std::unique_ptr<ExpertParallel> expertParallel_;  // model.expert_parallel > 1
  std::unique_ptr<ExpertShards> expertShards_;      // with it: this rank's experts only
  double allToAllSeconds_ = 0, allToAllBytes_ = 0;  // the last step's exchanges
};

}  // namespace moelab
