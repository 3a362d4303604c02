#include "model/SwiGlu.h"

namespace moelab {

SwiGluExpertsImpl::SwiGluExpertsImpl(int64_t e, int64_t d, int64_t i) {
  w1 = register_parameter("w1", torch::randn({e, d, i}) * 0.02);
  w3 = register_parameter("w3", torch::randn({e, d, i}) * 0.02);
  w2 = register_parameter("w2", torch::randn({e, i, d}) * 0.02);
}

torch::Tensor SwiGluExpertsImpl::forward(const torch::Tensor& x, const std::vector<int64_t>& counts) {
  // unbind's backward stacks the per-expert gradients once, instead of one full-size zero tensor
  // per expert as select() would.
  auto a = w1.unbind(0), b = w3.unbind(0), c = w2.unbind(0);
  std::vector<torch::Tensor> outs;
  int64_t at = 0;
  for (size_t e = 0; e < counts.size(); ++e) {
    if (counts[e] == 0) continue;
    auto rows = x.narrow(0, at, counts[e]);
    outs.push_back(torch::mm(torch::silu(torch::mm(rows, a[e])) * torch::mm(rows, b[e]), c[e]));
    at += counts[e];
  }
  return outs.empty() ? x.new_zeros({0, x.size(1)}) : torch::cat(outs, 0);
}

SwiGluFfnImpl::SwiGluFfnImpl(int64_t d, int64_t i) {
  w1 = register_parameter("w1", torch::randn({d, i}) * 0.02);
  w3 = register_parameter("w3", torch::randn({d, i}) * 0.02);
  w2 = register_parameter("w2", torch::randn({i, d}) * 0.02);
}

torch::Tensor SwiGluFfnImpl::forward(const torch::Tensor& x) {
  return torch::mm(torch::silu(torch::mm(x, w1)) * torch::mm(x, w3), w2);
}

SparseMoeFfnImpl::SparseMoeFfnImpl(const ModelConfig& cfg)
    : trainCapacity(cfg.capacityFactor), evalCapacity(cfg.evalCapacityFactor) {
  router = register_module("router", RouterTopK(cfg));
  experts = register_module("experts", SwiGluExperts(cfg.numExperts, cfg.embedDim, cfg.expertWidth()));
  // s shared experts of width I are one dense SwiGLU of width s*I (the sum of their outputs).
  if (cfg.sharedExperts > 0)
    shared = register_module("shared", SwiGluFfn(cfg.embedDim, cfg.sharedExperts * cfg.expertWidth()));
}

torch::Tensor SparseMoeFfnImpl::forward(const torch::Tensor& x, const torch::Tensor& realTokens) {
  auto tokens = realTokens.defined() ? x.index_select(0, realTokens) : x;
  if (tokens.size(0) == 0) {
    // Nothing to route (a batch of padding only): no routed output, zero balancing losses.
    lastAuxLoss = lastZLoss = lastImbalanceLoss = torch::zeros({}, x.options().dtype(torch::kFloat));
    lastStats = RoutingStats{};
    lastStats.tokensPerExpert.assign(size_t(router->numExperts), 0);
    if (router->recordChoices) router->lastChosen = torch::empty({0, router->topK}, torch::kLong);
    auto y = torch::zeros_like(x);
    return shared ? y + shared(x) : y;
  }
  DispatchPlan plan = router->route(tokens, is_training() ? trainCapacity : evalCapacity);
  auto routed = experts->forward(tokens.index_select(0, plan.tokenIndex), plan.counts);
  auto rows = realTokens.defined() ? realTokens.index_select(0, plan.tokenIndex) : plan.tokenIndex;
  // Under bf16 autocast the experts' output is bf16 while x (the residual stream) stays fp32.
  auto y = torch::zeros_like(x).index_add(
      0, rows, (routed * plan.weight.unsqueeze(1).to(routed.dtype())).to(x.dtype()));
  if (shared) y = y + shared(x);
  lastAuxLoss = plan.auxLoss;
  lastZLoss = plan.zLoss;
  lastImbalanceLoss = plan.imbalanceLoss;
  lastStats = std::move(plan.stats);
  return y;
}

}  // namespace moelab
