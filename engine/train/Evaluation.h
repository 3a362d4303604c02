#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "data/LmDataset.h"
#include "metrics/Metrics.h"
#include "model/LanguageModel.h"

namespace moelab {

class DistributedContext;

// Mean loss and perplexity over every sample of a split (no grad, eval mode), with what was
// evaluated (samples, batches, target tokens). With `coupling`, the first batch's forward also
// records each gnn_moe layer's effective expert coupling (LanguageModel::recordCoupling).
// With `dist`, the batches are shared out among the ranks (batch i on rank i mod world size) and the
// sums combined, so every rank returns the same result; the coupling probe rides on rank 0's batch 0.
EvalResult evaluate(LanguageModel& model, const TokenSplit& split, int64_t batchSize,
                    std::vector<ExpertCoupling>* coupling = nullptr, DistributedContext* dist = nullptr);

// The periodic validation set for eval_batches > 0: `samples` rows drawn with a fixed seed from
// the whole split (in file order), so every evaluation of a run scores the same text and that text
// is spread over many articles rather than the first one or two. The whole split when samples is 0
// or not smaller than the split.
TokenSplit validationSubset(const TokenSplit& split, int64_t samples, uint64_t seed);
// The rows validationSubset takes, ascending (all rows when samples is 0 or >= size).
std::vector<int64_t> validationRows(int64_t size, int64_t samples, uint64_t seed);

}  // namespace moelab
