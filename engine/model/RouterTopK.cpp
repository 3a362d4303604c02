#include "model/RouterTopK.h"

#include <cmath>

namespace moelab {

RouterTopKImpl::RouterTopKImpl(const ModelConfig& cfg)
    : numExperts(cfg.numExperts),
      topK(cfg.topK),
      jitter(cfg.routerJitter),
      gamma(cfg.auxFreeGamma),
      byProbability(cfg.dropPolicy == "probability"),
      auxFree(cfg.auxFreeBalancing),
      imbalance(ImbalanceLossWeights::from(cfg)) {
  weight = register_parameter("weight", torch::randn({numExperts, cfg.embedDim}) * 0.02);
  selectionBias = register_buffer("selection_bias", torch::zeros({numExperts}, torch::kFloat));
}

int64_t RouterTopKImpl::capacityFor(int64_t tokens, double capacityFactor) const {
  return capacityFactor > 0 ? int64_t(std::ceil(double(topK * tokens) / double(numExperts) * capacityFactor))
                            : tokens * topK;
}

RouterTopKImpl::Selection RouterTopKImpl::select(const torch::Tensor& x) {
  Selection s;
  auto xf = x.to(torch::kFloat);
  if (is_training() && jitter > 0) xf = xf * torch::empty_like(xf).uniform_(1.0 - jitter, 1.0 + jitter);
  s.logits = torch::matmul(xf, weight.to(torch::kFloat).t());  // [N, E], fp32 whatever the model dtype
  s.probs = torch::softmax(s.logits, -1);
  {
    torch::NoGradGuard g;
    // The aux-free bias steers which experts are chosen, never the weights they get.
    auto scores = auxFree ? s.probs + selectionBias : s.probs;
    if (!is_training() && reassigner.spec().active())
      s.chosen = reassigner.choose(scores, s.logits, topK);
    else
      s.chosen = std::get<1>(scores.topk(topK, -1));  // [N, k]
  }
  s.topProbs = s.probs.gather(1, s.chosen);
  s.weights = s.topProbs / s.topProbs.sum(-1, /*keepdim=*/true);
  s.experts = s.chosen.reshape({-1});
  s.routed = torch::bincount(s.experts, {}, numExperts);
  return s;
}

void RouterTopKImpl::balancingLosses(const Selection& s, DispatchPlan& plan) const {
  // Switch form: E * sum_i f_i P_i, f_i the fraction of assignments to expert i, P_i its mean
  // router probability; 1.0 at uniform routing for any k.
  auto f = s.routed.to(torch::kFloat) / double(s.experts.size(0));
  plan.auxLoss = double(numExperts) * (f * s.probs.mean(0)).sum();
  plan.zLoss = torch::logsumexp(s.logits, -1).pow(2).mean();
  plan.imbalanceLoss = imbalance.weighted(s.probs.mean(0));
}

torch::Tensor RouterTopKImpl::keptAssignments(const Selection& s, int64_t capacity) const {
  torch::NoGradGuard g;
  const int64_t A = s.experts.size(0);
  // Assignment a = n*k + j (token n's j-th choice). Order them by expert (stable), within an
  // expert by token position, or by descending raw router probability (not the renormalised
  // weight, which is 1 for every top-1 choice); then keep each expert's first `capacity`.
  torch::Tensor order;
  if (byProbability) {
    auto byProb = std::get<1>(
        torch::sort(s.topProbs.detach().reshape({A}), c10::optional<bool>(true), 0, /*descending=*/true));
    order = byProb.index_select(
        0, std::get<1>(torch::sort(s.experts.index_select(0, byProb), c10::optional<bool>(true), 0)));
  } else {
    order = std::get<1>(torch::sort(s.experts, c10::optional<bool>(true), 0));
  }
  auto sortedExperts = s.experts.index_select(0, order);
  auto groupStart = s.routed.cumsum(0) - s.routed;
  auto rankInExpert = torch::arange(A, torch::kLong) - groupStart.index_select(0, sortedExperts);
  return order.masked_select(rankInExpert < capacity);
}

void RouterTopKImpl::collectStatistics(const Selection& s, const torch::Tensor& kept, int64_t capacity,
                                       DispatchPlan& plan) const {
  const int64_t E = numExperts, A = s.experts.size(0);
  auto routedCpu = s.routed.to(torch::kCPU);
  auto keptCpu = torch::bincount(s.experts.index_select(0, kept), {}, E).to(torch::kCPU);
  plan.stats.tokensPerExpert.assign(routedCpu.data_ptr<int64_t>(), routedCpu.data_ptr<int64_t>() + E);
  plan.counts.assign(keptCpu.data_ptr<int64_t>(), keptCpu.data_ptr<int64_t>() + E);
  plan.stats.assignments = A;
  plan.stats.dropped = A - kept.size(0);
  plan.stats.capacity = capacity;
  torch::NoGradGuard g;
  plan.stats.auxLoss = plan.auxLoss.item<double>();
  plan.stats.zLoss = plan.zLoss.item<double>();
  plan.stats.routerEntropy =
      (-(s.probs * torch::log(s.probs.clamp_min(1e-20))).sum(-1)).mean().item<double>();
  plan.stats.top1Probability = std::get<0>(s.probs.max(-1)).mean().item<double>();
}

DispatchPlan RouterTopKImpl::route(const torch::Tensor& x, double capacityFactor) {
  const int64_t capacity = capacityFor(x.size(0), capacityFactor);
  Selection s = select(x);
  DispatchPlan plan;
  balancingLosses(s, plan);
  auto kept = keptAssignments(s, capacity);
  // Grouping invariant: `kept` lists assignments expert by expert, so tokenIndex's first counts[0]
  // rows belong to expert 0, the next counts[1] to expert 1, and so on (what SwiGluExperts expects).
  plan.tokenIndex = kept.div(topK, "floor");
  plan.weight = s.weights.reshape({-1}).index_select(0, kept);
  collectStatistics(s, kept, capacity, plan);
  if (is_training()) lastLoads = plan.stats.tokensPerExpert;
  if (recordChoices) lastChosen = s.chosen.to(torch::kCPU);
  return plan;
}

void RouterTopKImpl::setReassignment(const ReassignSpec& spec) {
  spec.validate(numExperts, topK);
  reassigner = RouteReassigner(spec);
}

void RouterTopKImpl::updateSelectionBias() {
  if (!auxFree || lastLoads.empty()) return;
  torch::NoGradGuard g;
  auto load = torch::tensor(lastLoads, torch::kLong).to(torch::kFloat);
  selectionBias.add_(gamma * torch::sign(load.mean() - load));
}

}  // namespace moelab
