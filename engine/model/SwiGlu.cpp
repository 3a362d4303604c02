#include "model/SwiGlu.h"

#include "dist/ExpertParallel.h"

namespace moelab {

SwiGluExpertsImpl::SwiGluExpertsImpl(int64_t e, int64_t d, int64_t i, ExpertShard shard) : numExperts(e) {
  TORCH_CHECK(shard.ranks >= 1 && e % shard.ranks == 0, "SwiGluExperts: ", e, " experts do not split over ",
              shard.ranks, " ranks");
  const int64_t per = e / shard.ranks;
  const auto init = [&](std::initializer_list<int64_t> shape) {
    auto whole = torch::randn(shape) * 0.02;
    return shard.ranks == 1 ? whole : whole.narrow(0, shard.rank * per, per).clone();
  };
  w1 = register_parameter("w1", init({e, d, i}));
  w3 = register_parameter("w3", init({e, d, i}));
  w2 = register_parameter("w2", init({e, i, d}));
}

torch::Tensor SwiGluExpertsImpl::forward(const torch::Tensor& x, const std::vector<int64_t>& counts) {
  TORCH_CHECK(int64_t(counts.size()) == w1.size(0), "SwiGluExperts: counts for ", counts.size(), " experts, ",
              w1.size(0), " held here");
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

void SwiGluExpertsImpl::keepShard(int rank, int world) {
  const int64_t per = numExperts / world;
  TORCH_CHECK(per * world == numExperts, "keepShard: ", numExperts, " experts do not split over ", world,
              " ranks");
  torch::NoGradGuard noGrad;
  for (auto* w : {&w1, &w3, &w2}) {
    if (w->size(0) == per && per != numExperts) continue;  // already this rank's slice
    TORCH_CHECK(w->size(0) == numExperts, "keepShard: expected ", numExperts, " experts, got ", w->size(0));
    w->set_data(w->narrow(0, rank * per, per).clone());
  }
}

SwiGluFfnImpl::SwiGluFfnImpl(int64_t d, int64_t i) {
  w1 = register_parameter("w1", torch::randn({d, i}) * 0.02);
  w3 = register_parameter("w3", torch::randn({d, i}) * 0.02);
  w2 = register_parameter("w2", torch::randn({i, d}) * 0.02);
}

torch::Tensor SwiGluFfnImpl::forward(const torch::Tensor& x) {
  return torch::mm(torch::silu(torch::mm(x, w1)) * torch::mm(x, w3), w2);
}

SparseMoeFfnImpl::SparseMoeFfnImpl(const ModelConfig& cfg, ExpertShard shard)
    : trainCapacity(cfg.capacityFactor), evalCapacity(cfg.evalCapacityFactor) {
  router = register_module("router", RouterTopK(cfg));
  experts = register_module("experts", SwiGluExperts(cfg.numExperts, cfg.embedDim, cfg.expertWidth(), shard));
  // s shared experts of width I are one dense SwiGLU of width s*I (the sum of their outputs).
  if (cfg.sharedExperts > 0)
    shared = register_module("shared", SwiGluFfn(cfg.embedDim, cfg.sharedExperts * cfg.expertWidth()));
}

void SparseMoeFfnImpl::setExpertParallel(ExpertParallel* ep) {
  expertParallel = ep;
  if (ep) experts->keepShard(ep->rank(), ep->worldSize());
}

torch::Tensor expertParallelForward(ExpertParallel& ep, SwiGluExperts& experts, const torch::Tensor& sorted,
                                    const std::vector<int64_t>& counts) {
  const int w = ep.worldSize(), me = ep.rank();
  const int64_t numExperts = int64_t(counts.size()), per = numExperts / w, first = me * per;
  const auto all = ep.gatherCounts(counts);  // [source rank][expert]
  std::vector<int64_t> send(size_t(w), 0), recv(size_t(w), 0);
  for (int64_t e = 0; e < numExperts; ++e) send[size_t(e / per)] += counts[size_t(e)];
  for (int s = 0; s < w; ++s)
    for (int64_t e = first; e < first + per; ++e) recv[size_t(s)] += all[size_t(s)][size_t(e)];
  auto received = ep.exchange(sorted, send, recv);  // by source rank, each block grouped by expert
  // Expert-major order for the experts' matmuls: for each local expert, every source's rows.
  std::vector<int64_t> order, local(size_t(per), 0);  // rows per expert held here
  std::vector<int64_t> base(size_t(w), 0);
  for (int s = 1; s < w; ++s) base[size_t(s)] = base[size_t(s - 1)] + recv[size_t(s - 1)];
  for (int64_t e = first; e < first + per; ++e)
    for (int s = 0; s < w; ++s) {
      int64_t at = base[size_t(s)];
      for (int64_t q = first; q < e; ++q) at += all[size_t(s)][size_t(q)];
      for (int64_t i = 0; i < all[size_t(s)][size_t(e)]; ++i) order.push_back(at + i);
      local[size_t(e - first)] += all[size_t(s)][size_t(e)];
    }
  auto perm = torch::tensor(order, torch::kLong);
  auto inverse = torch::empty_like(perm);
  if (perm.numel() > 0) inverse.index_copy_(0, perm, torch::arange(perm.numel(), torch::kLong));
  auto out = experts->forward(received.index_select(0, perm), local);
  // No rows here: still a node of the graph, so this rank joins the exchange's backward, and its
  // experts get a zero gradient as in one process (where the layer's stacked weights always get
  // one): AdamW then decays and counts them every step on every rank.
  if (out.size(0) == 0) out = received * 0 + (experts->w1.sum() + experts->w3.sum() + experts->w2.sum()) * 0;
  return ep.exchange(out.index_select(0, inverse), recv, send);
}

torch::Tensor SparseMoeFfnImpl::forward(const torch::Tensor& x, const torch::Tensor& realTokens) {
  auto tokens = realTokens.defined() ? x.index_select(0, realTokens) : x;
  if (tokens.size(0) == 0 && expertParallel) {
    // The other ranks still exchange with this one (it sends and computes nothing).
    std::vector<int64_t> none(size_t(router->numExperts), 0);
    auto back = expertParallelForward(*expertParallel, experts, tokens, none);
    lastAuxLoss = lastZLoss = lastImbalanceLoss = torch::zeros({}, x.options().dtype(torch::kFloat));
    lastStats = RoutingStats{};
    lastStats.tokensPerExpert.assign(size_t(router->numExperts), 0);
    auto y = torch::zeros_like(x) + back.sum() * 0;
    return shared ? y + shared(x) : y;
  }
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
  auto routed = expertParallel ? expertParallelForward(*expertParallel, experts,
                                                       tokens.index_select(0, plan.tokenIndex), plan.counts)
                               : experts->forward(tokens.index_select(0, plan.tokenIndex), plan.counts);
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
