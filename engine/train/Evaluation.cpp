#include "train/Evaluation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "dist/DistributedContext.h"

namespace moelab {

EvalResult evaluate(LanguageModel& model, const TokenSplit& split, int64_t batchSize,
                    std::vector<ExpertCoupling>* coupling, DistributedContext* dist) {
  torch::NoGradGuard noGrad;
  const bool wasTraining = model->is_training();
  model->eval();
  double lossSum = 0;
  EvalResult r;
  int64_t batchIndex = -1;
  for (int64_t at = 0; at < split.size(); at += batchSize) {
    if (dist && ++batchIndex % dist->worldSize() != dist->rank()) continue;
    int64_t end = std::min(split.size(), at + batchSize);
    // The coupling probe rides on the first batch: no extra forward. Switched off again even when
    // the forward throws, so training forwards never pay for it.
    struct ProbeScope {
      LanguageModel& m;
      bool on;
      ~ProbeScope() {
        if (on) m->recordCoupling(false);
      }
    } probe{model, coupling && at == 0};
    if (probe.on) model->recordCoupling(true);
    auto logits = model->forward(split.inputs.slice(0, at, end), split.mask.slice(0, at, end));
    if (probe.on) *coupling = model->lastCoupling();
    auto targets = split.targets.slice(0, at, end);
    lossSum += torch::nn::functional::cross_entropy(
                   logits.reshape({-1, logits.size(-1)}), targets.reshape({-1}),
                   torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100).reduction(torch::kSum))
                   .item<double>();
    r.tokens += targets.ne(-100).sum().item<int64_t>();
    r.samples += end - at;
    ++r.batches;
  }
  if (dist && model->expertParallel()) {
    // Sharded experts make every forward a collective: a rank without a batch in the last round
    // runs a throw-away forward so the others' exchanges find it.
    const int64_t world = dist->worldSize(), batches = (split.size() + batchSize - 1) / batchSize;
    const int64_t mine = batches / world + (dist->rank() < batches % world ? 1 : 0);
    for (int64_t round = mine; round < (batches + world - 1) / world; ++round)
      model->forward(split.inputs.slice(0, 0, 1), split.mask.slice(0, 0, 1));
  }
  model->train(wasTraining);
  if (dist) {
    const auto sums = dist->allReduceSum({lossSum, double(r.tokens), double(r.samples), double(r.batches)});
    lossSum = sums[0];
    r.tokens = int64_t(sums[1]);
    r.samples = int64_t(sums[2]);
    r.batches = int64_t(sums[3]);
  }
  r.loss = r.tokens > 0 ? lossSum / double(r.tokens) : std::numeric_limits<double>::quiet_NaN();
  r.perplexity = std::exp(r.loss);
  return r;
}

std::vector<int64_t> validationRows(int64_t size, int64_t samples, uint64_t seed) {
  std::vector<int64_t> rows(static_cast<size_t>(size));
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = int64_t(i);
  if (samples <= 0 || samples >= size) return rows;
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + 0x5EED);
  std::shuffle(rows.begin(), rows.end(), rng);
  rows.resize(size_t(samples));
  std::sort(rows.begin(), rows.end());  // file order: batches stay reproducible and readable
  return rows;
}

TokenSplit validationSubset(const TokenSplit& split, int64_t samples, uint64_t seed) {
  if (samples <= 0 || samples >= split.size()) return split;
  return split.select(torch::tensor(validationRows(split.size(), samples, seed), torch::kLong));
}

}  // namespace moelab
