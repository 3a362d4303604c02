#include "train/TrainStep.h"

#include <chrono>
#include <cmath>
#include <limits>

#include "dist/DistributedContext.h"
#include "dist/GradientAllReduce.h"
#include "train/ExpertShards.h"
#include "train/FusedAdamW.h"

namespace moelab {
namespace {
std::string describe(double v) {
  return std::isnan(v) ? "nan" : v > 0 ? "+inf" : "-inf";
}
}  // namespace

double gradientNorm(const std::vector<torch::Tensor>& parameters) {
  std::vector<torch::Tensor> norms;
  for (const auto& p : parameters)
    if (p.grad().defined()) norms.push_back(p.grad().norm());
  if (norms.empty()) return 0;
  return torch::stack(norms).norm().item<double>();
}

StepResult trainStep(LanguageModel& model, torch::optim::Optimizer& optimizer, const torch::Tensor& inputs,
                     const torch::Tensor& targets, const torch::Tensor& mask, double gradClip,
                     Precision precision, DataParallelStep* dp) {
  const auto start = std::chrono::steady_clock::now();
  StepResult r;
  r.gradNorm = std::numeric_limits<double>::quiet_NaN();
  dropGradients(optimizer);
  torch::Tensor lm, loss, aux;
  // A data-parallel rank whose shard of a short last batch is empty only takes part in the exchanges.
  const bool compute = inputs.size(0) > 0;
  if (compute) {
    AutocastScope autocast(precision);
    auto hidden = model->hiddenStates(inputs, mask);
    // A data-parallel shard without real targets adds nothing (its mean would be 0/0), but stays in
    // the graph: expert-parallel exchanges run in its backward too.
    lm = dp && dp->localTokens == 0 ? model->logitsOf(hidden).sum() * 0 : model->lossOf(hidden, targets);
    loss = lm;
    aux = model->auxiliaryLoss();  // sparse_moe: load-balancing + z-loss, already weighted
    if (aux.defined()) loss = lm + aux.to(torch::kFloat);
    r.lmLoss = lm.item<double>();
    r.totalLoss = aux.defined() ? loss.item<double>() : r.lmLoss;
  }
  if (dp) {
    const double share = dp->globalTokens > 0 ? dp->localTokens / dp->globalTokens : 0.0;
    std::vector<double> v{compute ? r.lmLoss * share : 0.0, compute ? r.totalLoss * share : 0.0};
    v.insert(v.end(), dp->sync.begin(), dp->sync.end());
    const auto waitStart = std::chrono::steady_clock::now();
    v = dp->dist->allReduceSum(v);
    r.syncSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - waitStart).count();
    r.lmLoss = v[0];
    r.totalLoss = v[1];
    dp->sync.assign(v.begin() + 2, v.end());
    if (compute && share != 1.0) loss = loss * share;
  }
  r.forwardSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Checked before backward and before the update: a non-finite value must never reach AdamW
  // (one NaN gradient turns every weight it touches into NaN, and a later save would keep them).
  if (!std::isfinite(r.totalLoss)) {
    r.diverged = true;
    r.problem = !std::isfinite(r.lmLoss) ? "language-model loss is " + describe(r.lmLoss)
                                         : "auxiliary loss is " + describe(r.totalLoss - r.lmLoss) +
                                               " (language-model loss " + std::to_string(r.lmLoss) + ")";
    return r;
  }
  if (dp) dp->gradients->beginStep();
  if (compute) loss.backward();
  if (dp) r.allReduceSeconds = dp->gradients->finish();
  r.forwardBackwardSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto params = model->parameters();
  r.gradNorm = dp && dp->shards ? dp->shards->gradientNorm() : gradientNorm(params);
  if (!std::isfinite(r.gradNorm)) {
    r.diverged = true;
    r.problem = "gradient norm is " + describe(r.gradNorm) + " (loss " + std::to_string(r.totalLoss) + ")";
    dropGradients(optimizer);
    return r;
  }
  if (gradClip > 0) {
    // As torch::nn::utils::clip_grad_norm_, reusing the norm computed above.
    const double coef = gradClip / (r.gradNorm + 1e-6);
    if (coef < 1.0) {
      torch::NoGradGuard g;
      for (auto& p : params)
        if (p.grad().defined()) p.grad().mul_(coef);
    }
  }
  optimizer.step();
  if (dp) {
    // Aux-loss-free balancing follows the global batch's loads, so every rank's bias stays equal.
    auto routers = model->routers();
    std::vector<double> loads;
    for (auto& router : routers)
      if (router->auxFree)
        for (int64_t e = 0; e < router->numExperts;
             ++e)  // same length on every rank, even one that computed nothing
          loads.push_back(
              compute && size_t(e) < router->lastLoads.size() ? double(router->lastLoads[size_t(e)]) : 0.0);
    if (!loads.empty()) {
      loads = dp->dist->allReduceSum(loads);
      size_t at = 0;
      for (auto& router : routers)
        if (router->auxFree) {
          router->lastLoads.resize(size_t(router->numExperts));
          for (auto& l : router->lastLoads) l = int64_t(std::llround(loads[at++]));
        }
    }
  }
  model->afterOptimizerStep();
  return r;
}

}  // namespace moelab
