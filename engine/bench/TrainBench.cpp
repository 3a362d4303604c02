#include "bench/TrainBench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "dist/DistributedContext.h"
#include "dist/ExpertParallel.h"
#include "dist/GradientAllReduce.h"
#include "model/LanguageModel.h"
#include "train/ExpertShards.h"
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
                          bool opShapes, DistributedContext* dist) {
  if (dist && dist->worldSize() == 1) dist = nullptr;
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
  if (cfg.model.expertParallel > 1 && (!dist || dist->worldSize() != cfg.model.expertParallel))
    throw UserError("bench: model.expert_parallel = " + std::to_string(cfg.model.expertParallel) +
                    " needs --nproc " + std::to_string(cfg.model.expertParallel));
  LanguageModel model(modelCfg, cfg.model.expertParallel > 1
                                    ? ExpertShard{dist->rank(), int(cfg.model.expertParallel)}
                                    : ExpertShard{});
  model->train();
  r.parameters = model->parameterBreakdown().total;
  FusedAdamW opt(model->parameters(), torch::optim::AdamWOptions(t.learningRate).weight_decay(t.weightDecay));
  const int64_t V = model->cfg.vocabSize, B = t.batchSize, T = r.seqLength;
  auto tokens = torch::randint(V, {B, T + 1}, torch::kLong);
  auto inputs = tokens.slice(1, 0, T).contiguous(), targets = tokens.slice(1, 1, T + 1).contiguous();
  std::unique_ptr<GradientAllReduce> gradients;
  DataParallelStep dp;
  std::vector<double> compute, allReduce, idle, allToAll, allToAllBytes;
  std::unique_ptr<ExpertParallel> expertParallel;
  std::unique_ptr<ExpertShards> shards;
  if (dist) {
    // Every rank drew the same global batch (same seed); each trains on its contiguous shard.
    const int64_t w = dist->worldSize(), k = dist->rank();
    if (B < w) throw UserError("bench: train.batch_size must be at least the number of ranks");
    inputs = inputs.slice(0, B * k / w, B * (k + 1) / w).contiguous();
    targets = targets.slice(0, B * k / w, B * (k + 1) / w).contiguous();
    if (cfg.model.expertParallel > 1) {
      expertParallel = std::make_unique<ExpertParallel>(*dist);
      model->setExpertParallel(expertParallel.get());
      shards = std::make_unique<ExpertShards>(model, *dist);
    }
    gradients =
        std::make_unique<GradientAllReduce>(*dist, shards ? shards->replicated() : model->parameters());
    dp.dist = dist;
    dp.gradients = gradients.get();
    dp.shards = shards.get();
    dp.localTokens = double(targets.numel());
    dp.globalTokens = double(B * T);
    r.worldSize = w;
    r.allReduceBytes = gradients->bytesPerStep();
  }
  DataParallelStep* dataParallel = dist ? &dp : nullptr;
  std::vector<double> fwd, bwd, fwdBwd, update;
  // The 2048^3 rate moves by ±30% within minutes on a shared machine, so it is sampled between the
  // timed steps (and 5 times after them) and MFU uses the median: same run, same conditions.
  const GemmProbe reference(2048, 2048, 2048);
  for (int i = 0; i < warmupSteps + steps; ++i) {
    auto s = std::chrono::steady_clock::now();
    // The last timed step's exchanges are logged, to be replayed without the step around them.
    if (expertParallel) expertParallel->recordExchanges(i == warmupSteps + steps - 1);
    StepResult step = trainStep(model, opt, inputs, targets, {}, t.gradClip, precision, dataParallel);
    if (step.diverged) throw std::runtime_error("bench: " + step.problem);
    if (i < warmupSteps && expertParallel) {
      expertParallel->takeSeconds();
      expertParallel->takeBytes();
    }
    if (i >= warmupSteps && dist) {
      r.stepSeconds.push_back(seconds(s));
      allToAll.push_back(expertParallel ? expertParallel->takeSeconds() : 0.0);
      allToAllBytes.push_back(expertParallel ? expertParallel->takeBytes() : 0.0);
      compute.push_back(r.stepSeconds.back() - step.syncSeconds - step.allReduceSeconds - allToAll.back());
      allReduce.push_back(step.allReduceSeconds);
      idle.push_back(step.syncSeconds);
      fwdBwd.push_back(step.forwardBackwardSeconds);
      fwd.push_back(step.forwardSeconds);
      bwd.push_back(step.forwardBackwardSeconds - step.forwardSeconds);
      update.push_back(r.stepSeconds.back() - step.forwardBackwardSeconds);
    } else if (i >= warmupSteps) {
      r.stepSeconds.push_back(seconds(s));
      fwdBwd.push_back(step.forwardBackwardSeconds);
      fwd.push_back(step.forwardSeconds);
      bwd.push_back(step.forwardBackwardSeconds - step.forwardSeconds);
      update.push_back(r.stepSeconds.back() - step.forwardBackwardSeconds);
      r.referenceSamples.push_back(reference.sample());
    }
  }
  if (expertParallel) {
    for (const auto& layer : model->routingStats())
      r.expertCounts.emplace_back(layer.tokensPerExpert.begin(), layer.tokensPerExpert.end());
    r.allToAllReplaySeconds = expertParallel->replayRecorded();
    const auto link = expertParallel->measureLink();
    r.linkFloorSeconds = link.floorSeconds;
    r.linkBytesPerSecond = link.bytesPerSecond;
  }
  r.medianStepSeconds = median(r.stepSeconds);
  r.medianForwardBackwardSeconds = median(fwdBwd);
  r.medianOptimizerSeconds = median(update);
  r.medianForwardSeconds = median(fwd);
  r.medianBackwardSeconds = median(bwd);
  r.profile = profileOps(
      [&] { trainStep(model, opt, inputs, targets, {}, t.gradClip, precision, dataParallel); }, opShapes);
  r.tokensPerSecond = double(B * T) / r.medianStepSeconds;
  r.flopsPerToken = 3.0 * model->forwardFlopsPerToken(T);
  r.achievedGflops = r.flopsPerToken * r.tokensPerSecond / 1e9;
  const int64_t D = cfg.model.embedDim, N = B * T;
  if (dist) dist->barrier();  // the ranks sample the GEMM rate together: the machine's rate under load
  for (int i = 0; i < 5; ++i) r.referenceSamples.push_back(reference.sample());
  r.matmulGflops["2048x2048x2048"] = median(r.referenceSamples);
  if (dist) {
    const int w = dist->worldSize(), k = dist->rank();
    constexpr int kParts = 4;
    std::vector<double> slots(size_t(kParts * w + 1), 0.0);
    slots[size_t(kParts * k)] = median(compute);
    slots[size_t(kParts * k + 1)] = median(allReduce);
    slots[size_t(kParts * k + 2)] = median(idle);
    slots[size_t(kParts * k + 3)] = median(allToAll);
    slots[size_t(kParts * w)] = r.matmulGflops["2048x2048x2048"];
    slots = dist->allReduceSum(slots);
    for (int q = 0; q < w; ++q) {
      const double* part = slots.data() + kParts * q;
      r.ranks.push_back({part[0], part[1], part[2], part[3]});
    }
    r.matmulGflops["2048x2048x2048"] = slots[size_t(kParts * w)];
    r.allToAllBytes = median(allToAllBytes);
  }
  r.matmulGflops["NxDx4D"] = GemmProbe(N, D, 4 * D).medianOf(5);
  r.matmulGflops["NxDxV"] = GemmProbe(N, D, V).medianOf(5);
  for (auto& [k, v] : r.matmulGflops) r.peakMatmulGflops = std::max(r.peakMatmulGflops, v);
  r.referenceGflops = r.matmulGflops["2048x2048x2048"];
  r.mfu = r.achievedGflops / r.referenceGflops;
  r.peakRssMb = peakRssMb();
  return r;
}

}  // namespace moelab
