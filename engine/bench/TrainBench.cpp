#include "bench/TrainBench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "model/LanguageModel.h"
#include "train/FusedAdamW.h"
#include "train/Trainer.h"
#include "util/Errors.h"
#include "util/SystemMemory.h"

namespace moelab {
namespace {

double seconds(std::chrono::steady_clock::time_point a) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// GFLOP/s of repeated [m x k] . [k x n] products.
struct GemmProbe {
  torch::Tensor a, b;
  double flops;
  GemmProbe(int64_t m, int64_t k, int64_t n)
      : a(torch::randn({m, k})), b(torch::randn({k, n})), flops(2.0 * double(m) * double(k) * double(n)) {
    torch::mm(a, b);
  }
  double sample() const {
    auto s = std::chrono::steady_clock::now();
    torch::mm(a, b);
    return flops / seconds(s) / 1e9;
  }
  double medianOf(int reps) const {
    std::vector<double> r;
    for (int i = 0; i < reps; ++i) r.push_back(sample());
    return median(r);
  }
};

}  // namespace

BenchResult benchTraining(const ExperimentConfig& cfg, int64_t vocab, int steps, int warmupSteps,
                          bool opShapes) {
  BenchResult r;
  const auto& t = cfg.train;
  if (t.threads > 0) torch::set_num_threads(int(t.threads));
  r.threads = torch::get_num_threads();
  r.batchSize = t.batchSize;
  r.seqLength = cfg.model.maxSeqLength;
  r.steps = steps;
  torch::manual_seed(uint64_t(t.seed));
  requirePrecisionSupported(cfg);
  const Precision precision = trainingPrecision(cfg);
  const ModelConfig modelCfg = resolveModelConfig(cfg, vocab);
  const SystemMemory mem = systemMemory();
  std::string warning = requireTrainingFits(estimateTrainingMemory(modelCfg, t.batchSize), mem.totalBytes,
                                            mem.availableBytes, "bench");
  if (!warning.empty()) std::fprintf(stderr, "%s\n", warning.c_str());
  LanguageModel model(modelCfg);
  model->train();
  r.parameters = model->parameterBreakdown().total;
  FusedAdamW opt(model->parameters(), torch::optim::AdamWOptions(t.learningRate).weight_decay(t.weightDecay));
  const int64_t V = model->cfg.vocabSize, B = t.batchSize, T = r.seqLength;
  auto tokens = torch::randint(V, {B, T + 1}, torch::kLong);
  auto inputs = tokens.slice(1, 0, T).contiguous(), targets = tokens.slice(1, 1, T + 1).contiguous();
  std::vector<double> fwd, bwd, fwdBwd, update;
  // The 2048^3 rate moves by ±30% within minutes on a shared machine, so it is sampled between the
  // timed steps (and 5 times after them) and MFU uses the median: same run, same conditions.
  const GemmProbe reference(2048, 2048, 2048);
  for (int i = 0; i < warmupSteps + steps; ++i) {
    auto s = std::chrono::steady_clock::now();
    StepResult step = trainStep(model, opt, inputs, targets, {}, t.gradClip, precision);
    if (step.diverged) throw std::runtime_error("bench: " + step.problem);
    if (i >= warmupSteps) {
      r.stepSeconds.push_back(seconds(s));
      fwdBwd.push_back(step.forwardBackwardSeconds);
      fwd.push_back(step.forwardSeconds);
      bwd.push_back(step.forwardBackwardSeconds - step.forwardSeconds);
      update.push_back(r.stepSeconds.back() - step.forwardBackwardSeconds);
      r.referenceSamples.push_back(reference.sample());
    }
  }
  r.medianStepSeconds = median(r.stepSeconds);
  r.medianForwardBackwardSeconds = median(fwdBwd);
  r.medianOptimizerSeconds = median(update);
  r.medianForwardSeconds = median(fwd);
  r.medianBackwardSeconds = median(bwd);
  r.profile =
      profileOps([&] { trainStep(model, opt, inputs, targets, {}, t.gradClip, precision); }, opShapes);
  r.tokensPerSecond = double(B * T) / r.medianStepSeconds;
  r.flopsPerToken = 3.0 * model->forwardFlopsPerToken(T);
  r.achievedGflops = r.flopsPerToken * r.tokensPerSecond / 1e9;
  const int64_t D = cfg.model.embedDim, N = B * T;
  for (int i = 0; i < 5; ++i) r.referenceSamples.push_back(reference.sample());
  r.matmulGflops["2048x2048x2048"] = median(r.referenceSamples);
  r.matmulGflops["NxDx4D"] = GemmProbe(N, D, 4 * D).medianOf(5);
  r.matmulGflops["NxDxV"] = GemmProbe(N, D, V).medianOf(5);
  for (auto& [k, v] : r.matmulGflops) r.peakMatmulGflops = std::max(r.peakMatmulGflops, v);
  r.referenceGflops = r.matmulGflops["2048x2048x2048"];
  r.mfu = r.achievedGflops / r.referenceGflops;
  r.peakRssMb = peakRssMb();
  return r;
}

}  // namespace moelab
