#pragma once
#include <cstdint>
#include <string>

#include "config/ExperimentConfig.h"

namespace moelab {

// What a model costs, from its config alone: nothing is allocated, no LibTorch. `cfg` is resolved
// (vocabSize set). The parameter count equals what LanguageModel registers, term by term.
struct ParameterBreakdown {
  int64_t total = 0, experts = 0, gnnCoupling = 0, other = 0;
};
ParameterBreakdown countParameters(const ModelConfig& cfg);

// Forward matmul FLOPs per token at sequence length `seqLen` (active experts only).
double forwardFlopsPerToken(const ModelConfig& cfg, int64_t seqLen);

// Memory for training in fp32 with AdamW: weights, gradients, the two AdamW moments, activations
// kept for the backward pass at batch x max_seq_length (attention scores, block intermediates,
// logits and their gradient) and the runtime's own footprint.
struct TrainingMemoryEstimate {
  int64_t parameters = 0;
  double weightsBytes = 0, gradientsBytes = 0, optimizerBytes = 0, activationsBytes = 0, runtimeBytes = 0;
  double totalBytes() const {
    return weightsBytes + gradientsBytes + optimizerBytes + activationsBytes + runtimeBytes;
  }
  std::string describe() const;  // "7.9 GB (weights 1.2, gradients 1.2, AdamW 2.4, activations ...)"
};
// `ranks` > 1: one rank of a data-parallel job (its share of the global batch; with
// model.expert_parallel, its share of the routed experts' weights, gradients and moments).
TrainingMemoryEstimate estimateTrainingMemory(const ModelConfig& cfg, int64_t batchSize, int ranks = 1);

// Throws UserError when the estimate exceeds the machine's physical memory, with the numbers and
// the settings that shrink it; `what` names the action ("training", "bench"). Returns a warning
// (empty if none) when it fits in physical memory but not in what is available right now.
std::string requireTrainingFits(const TrainingMemoryEstimate& need, double totalBytes, double availableBytes,
                                const std::string& what);

}  // namespace moelab
