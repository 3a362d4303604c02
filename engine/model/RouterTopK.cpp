#include "model/RouterTopK.h"

#include <cmath>

namespace moelab {

RouterTopKImpl::RouterTopKImpl(const ModelConfig& cfg)
    : numExperts(cfg.numExperts),
      topK(cfg.topK),
      jitter(cfg.routerJitter),
      gamma(cfg.auxFreeGamma),
      byProbability(cfg.dropPolicy == "probability"),
      auxFree(cfg.auxFreeBalancing) {
  weight = register_parameter("weight", torch::randn({numExperts, cfg.embedDim}) * 0.02);
  selectionBias = register_buffer("selection_bias", torch::zeros({numExperts}, torch::kFloat));
}

DispatchPlan RouterTopKImpl::route(const torch::Tensor& x, double capacityFactor) {
  const int64_t N = x.size(0), E = numExperts, k = topK, A = N * k;
  auto xf = x.to(torch::kFloat);
  if (is_training() && jitter > 0) xf = xf * torch::empty_like(xf).uniform_(1.0 - jitter, 1.0 + jitter);
  auto logits = torch::matmul(xf, weight.to(torch::kFloat).t());  // [N, E], fp32 whatever the model dtype
  auto probs = torch::softmax(logits, -1);
  torch::Tensor chosen;
  {
    torch::NoGradGuard g;
    auto scores = auxFree ? probs + selectionBias : probs;
    chosen = std::get<1>(scores.topk(k, -1));  // [N, k]
  }
  auto top = probs.gather(1, chosen);
  auto w = top / top.sum(-1, /*keepdim=*/true);

  DispatchPlan plan;
  auto experts = chosen.reshape({A});
  auto routed = torch::bincount(experts, {}, E);  // assignments per expert, before capacity
  auto f = routed.to(torch::kFloat) / double(A);
  plan.auxLoss = double(E) * (f * probs.mean(0)).sum();
  plan.zLoss = torch::logsumexp(logits, -1).pow(2).mean();

  const int64_t capacity =
      capacityFactor > 0 ? int64_t(std::ceil(double(k * N) / double(E) * capacityFactor)) : A;
  torch::Tensor order;
  {
    torch::NoGradGuard g;
    // Assignments sorted by expert; within an expert by position (token order) or by weight.
    if (byProbability) {
      // Raw router probability, not the renormalised weight (which is 1 for every top-1 choice).
      auto byWeight = std::get<1>(
          torch::sort(top.detach().reshape({A}), c10::optional<bool>(true), 0, /*descending=*/true));
      order = byWeight.index_select(
          0, std::get<1>(torch::sort(experts.index_select(0, byWeight), c10::optional<bool>(true), 0)));
    } else {
      order = std::get<1>(torch::sort(experts, c10::optional<bool>(true), 0));
    }
    auto sortedExperts = experts.index_select(0, order);
    auto start = routed.cumsum(0) - routed;
    auto rank = torch::arange(A, torch::kLong) - start.index_select(0, sortedExperts);
    order = order.masked_select(rank < capacity);
  }
  plan.tokenIndex = order.div(k, "floor");
  plan.weight = w.reshape({A}).index_select(0, order);
  auto kept = torch::bincount(experts.index_select(0, order), {}, E);

  auto routedCpu = routed.to(torch::kCPU);
  auto keptCpu = kept.to(torch::kCPU);
  plan.stats.tokensPerExpert.assign(routedCpu.data_ptr<int64_t>(), routedCpu.data_ptr<int64_t>() + E);
  plan.counts.assign(keptCpu.data_ptr<int64_t>(), keptCpu.data_ptr<int64_t>() + E);
  plan.stats.assignments = A;
  plan.stats.dropped = A - order.size(0);
  plan.stats.capacity = capacity;
  {
    torch::NoGradGuard g;
    plan.stats.auxLoss = plan.auxLoss.item<double>();
    plan.stats.zLoss = plan.zLoss.item<double>();
    plan.stats.routerEntropy = (-(probs * torch::log(probs.clamp_min(1e-20))).sum(-1)).mean().item<double>();
    plan.stats.top1Probability = std::get<0>(probs.max(-1)).mean().item<double>();
  }
  if (is_training()) lastLoads = plan.stats.tokensPerExpert;
  return plan;
}

void RouterTopKImpl::updateSelectionBias() {
  if (!auxFree || lastLoads.empty()) return;
  torch::NoGradGuard g;
  auto load = torch::tensor(lastLoads, torch::kLong).to(torch::kFloat);
  selectionBias.add_(gamma * torch::sign(load.mean() - load));
}

}  // namespace moelab
