#include "train/ExpertShards.h"

#include <c10/util/string_utils.h>

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "dist/DistributedContext.h"
#include "dist/RankLauncher.h"

namespace moelab {
namespace {

std::string stateKey(const torch::Tensor& p) {
  return c10::guts::to_string(p.unsafeGetTensorImpl());
}

torch::optim::AdamWParamState* adamState(torch::optim::Optimizer& optimizer, const torch::Tensor& p) {
  auto found = optimizer.state().find(stateKey(p));
  if (found == optimizer.state().end()) return nullptr;
  return dynamic_cast<torch::optim::AdamWParamState*>(found->second.get());
}

double squaredNorm(const std::vector<torch::Tensor>& params) {
  double sum = 0;
  for (const auto& p : params)
    if (p.grad().defined()) sum += p.grad().pow(2).sum().item<double>();
  return sum;
}

}  // namespace

ExpertShards::ExpertShards(LanguageModel& model, DistributedContext& group)
    : group_(group), sharded_(model->expertShards()) {
  // The slices are cut by this group's ranks: they must be the expert-parallel ranks.
  TORCH_CHECK(model->cfg.expertParallel == group.worldSize(), "ExpertShards: model.expert_parallel ",
              model->cfg.expertParallel, " over a group of ", group.worldSize(), " ranks");
  std::unordered_set<const void*> mine;
  for (const auto& p : sharded_) {
    mine.insert(p.unsafeGetTensorImpl());
    shardRows_.push_back(p.size(0));
  }
  for (const auto& p : model->parameters())
    if (!mine.count(p.unsafeGetTensorImpl())) replicated_.push_back(p);
}

double ExpertShards::gradientNorm() const {
  const double experts = group_.allReduceSum({squaredNorm(sharded_)})[0];
  return std::sqrt(squaredNorm(replicated_) + experts);
}

void ExpertShards::withWholeExperts(torch::optim::Optimizer& optimizer, const std::function<void()>& body) {
  torch::NoGradGuard noGrad;
  const int world = group_.worldSize(), rank = group_.rank();
  // Rank 0 receives every rank's slice (in rank order: the experts' order); the others only send,
  // so no rank but the writer ever holds whole experts.
  const auto toRankZero = [&](const torch::Tensor& slice) {
    std::vector<int64_t> send(size_t(world), 0), recv(size_t(world), 0);
    send[0] = slice.size(0);
    if (rank == 0) std::fill(recv.begin(), recv.end(), slice.size(0));
    return group_.allToAll(slice.contiguous(), send, recv);
  };
  struct Kept {
    torch::Tensor weight, expAvg, expAvgSq;
    bool stateAdded = false;
  };
  std::vector<Kept> kept;
  const auto restore = [&] {
    for (size_t i = 0; i < kept.size(); ++i) {
      auto& p = sharded_[i];
      if (kept[i].weight.defined()) p.set_data(kept[i].weight);
      if (kept[i].stateAdded) {
        optimizer.state().erase(stateKey(p));
      } else if (auto* state = adamState(optimizer, p); state && kept[i].expAvg.defined()) {
        state->exp_avg(kept[i].expAvg);
        state->exp_avg_sq(kept[i].expAvgSq);
      }
    }
  };
  std::exception_ptr error;
  try {
    for (auto& p : sharded_) {
      auto* state = adamState(optimizer, p);
      // Every rank joins every exchange, with or without state of its own (a slice that never had
      // a gradient has none: zero moments, the step of the ranks that have one).
      int64_t steps = -1;
      for (const auto& s : group_.allGather(torch::tensor({state ? state->step() : int64_t(-1)})))
        steps = std::max(steps, s.item<int64_t>());
      const auto m = toRankZero(state ? state->exp_avg() : torch::zeros_like(p));
      const auto v = toRankZero(state ? state->exp_avg_sq() : torch::zeros_like(p));
      const auto w = toRankZero(p.data());
      kept.emplace_back();
      if (rank != 0) continue;
      kept.back().weight = p.data();
      p.set_data(w);
      if (steps < 0) continue;  // no rank has trained these experts yet: nothing to write
      if (!state) {
        auto added = std::make_unique<torch::optim::AdamWParamState>();
        added->step(steps);
        state = added.get();
        optimizer.state()[stateKey(p)] = std::move(added);
        kept.back().stateAdded = true;
      } else {
        kept.back().expAvg = state->exp_avg();
        kept.back().expAvgSq = state->exp_avg_sq();
      }
      state->exp_avg(m);
      state->exp_avg_sq(v);
    }
    body();
  } catch (...) {
    error = std::current_exception();
  }
  restore();
  // Every rank learns whether the save worked, so none waits in its next collective for a rank 0
  // that could not write.
  const bool failedSomewhere = group_.allReduceSum({error ? 1.0 : 0.0})[0] > 0;
  if (error) std::rethrow_exception(error);
  if (failedSomewhere)
    throw DistributedError(std::string("saving the checkpoint ") + kCollectiveBroke +
                           " 0: rank 0 could not write it (its error says why)");
}

void ExpertShards::cutToShard(torch::optim::Optimizer* optimizer) {
  torch::NoGradGuard noGrad;
  const int64_t rank = group_.rank();
  for (size_t i = 0; i < sharded_.size(); ++i) {
    const int64_t rows = shardRows_[i];
    const auto cut = [&](const torch::Tensor& t) {
      return t.size(0) == rows ? t : t.narrow(0, rank * rows, rows).clone();
    };
    auto& p = sharded_[i];
    p.set_data(cut(p.data()));
    if (!optimizer) continue;
    if (auto* state = adamState(*optimizer, p)) {
      state->exp_avg(cut(state->exp_avg()));
      state->exp_avg_sq(cut(state->exp_avg_sq()));
      if (state->max_exp_avg_sq().defined() && state->max_exp_avg_sq().dim() > 0)
        state->max_exp_avg_sq(cut(state->max_exp_avg_sq()));
    }
  }
}

}  // namespace moelab
