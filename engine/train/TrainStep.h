#pragma once
#include <torch/torch.h>

#include <string>

#include "model/LanguageModel.h"
#include "train/Precision.h"

namespace moelab {

// What one optimizer step did. When `diverged` is set the update was skipped: the weights and the
// optimizer state are those from before the step.
struct StepResult {
  double lmLoss = 0;          // cross-entropy over the batch's real targets
  double totalLoss = 0;       // lmLoss + weighted auxiliary losses (sparse_moe)
  double gradNorm = 0;        // global L2 norm before clipping; NaN when the loss was already non-finite
  double forwardSeconds = 0;  // forward and loss
  double forwardBackwardSeconds = 0;  // forward, loss and backward
  // Data parallel: waiting at the loss exchange (other ranks still computing) and for the gradient
  // all-reduce backward did not hide.
  double syncSeconds = 0, allReduceSeconds = 0;
  bool diverged = false;
  std::string problem;  // what was non-finite, e.g. "auxiliary loss is nan"
};

class DistributedContext;
class ExpertShards;
class GradientAllReduce;

// Data parallel: this rank computes on its shard of the global batch. The losses are exchanged
// before backward (so every rank makes the same skip decision) and weighted by the shard's share of
// the global batch's real targets, so the summed gradients are those of the global token mean, as in
// one process. `sync` rides along with the losses (the trainer's control flags) and comes back summed.
struct DataParallelStep {
  DistributedContext* dist = nullptr;
  GradientAllReduce* gradients = nullptr;
  ExpertShards* shards = nullptr;  // expert parallel: the gradient norm also sums every rank's experts
  double localTokens = 0, globalTokens = 0;
  std::vector<double> sync;
};

// One training step, shared by the Trainer and the benchmark so both time the same work:
// forward, loss (+ auxiliary losses), backward, global gradient norm, clipping (gradClip > 0),
// AdamW update, aux-free bias update. Non-finite total loss or gradient norm skips the update.
// precision: Bf16 runs the forward pass and loss under CPU autocast (backward follows the forward's
// dtypes; weights, gradients and the update stay fp32).
StepResult trainStep(LanguageModel& model, torch::optim::Optimizer& optimizer, const torch::Tensor& inputs,
                     const torch::Tensor& targets, const torch::Tensor& mask, double gradClip,
                     Precision precision = Precision::Fp32, DataParallelStep* dataParallel = nullptr);

// The global L2 norm of all parameter gradients (as clip_grad_norm_ computes it).
double gradientNorm(const std::vector<torch::Tensor>& parameters);

}  // namespace moelab
