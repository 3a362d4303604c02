#pragma once
#include <torch/torch.h>

#include <memory>
#include <vector>

#include "dist/DistributedContext.h"

namespace moelab {

// Expert parallelism for sparse_moe (model.expert_parallel = world size): rank r computes experts
// [r*E/W, (r+1)*E/W) of every MoE layer for the tokens all ranks route to them. Each layer's
// forward exchanges the per-expert counts, sends every kept assignment's row to its expert's rank
// with an all-to-all (splits from the counts), and returns the expert outputs with a second one;
// backward runs the two exchanges in reverse (autograd through the exchange). Its own process
// group, so the exchanges never interleave with the gradient all-reduce's buckets.
class ExpertParallel {
 public:
  explicit ExpertParallel(DistributedContext& dist);
  int rank() const { return group_->rank(); }
  int worldSize() const { return group_->worldSize(); }

  // Every rank's kept assignments per expert ([rank][expert]) from this rank's `counts`.
  std::vector<std::vector<int64_t>> gatherCounts(const std::vector<int64_t>& counts);
  // Rows to ranks (sendCounts[r] rows to rank r, in order), differentiable: backward sends the
  // gradients back the same way.
  torch::Tensor exchange(const torch::Tensor& rows, const std::vector<int64_t>& sendCounts,
                         const std::vector<int64_t>& recvCounts);

  // The exchange's link, measured: the time of an all-to-all of one row per peer (the per-collective
  // floor, seconds) and the bytes per second of a large one beyond that floor. A collective.
  struct Link {
    double floorSeconds = 0, bytesPerSecond = 0;
  };
  Link measureLink();

  // While on, every count gather and row exchange is logged (sizes only). replayRecorded() then runs
  // the logged collectives again in order, each right after a barrier, and returns their total
  // time (the median of `repeats` replays): the wire time of the traffic without the waiting for
  // slower ranks that a training step adds. A collective; every rank logged the same sequence.
  void recordExchanges(bool on) { recording_ = on; }
  double replayRecorded(int repeats = 5);

  // Time spent in the exchanges (forward and backward) and bytes this rank sent to other ranks,
  // since the last take.
  double takeSeconds();
  double takeBytes();
  // Not part of the autograd API: the raw exchange the autograd function calls both ways.
  torch::Tensor exchangeRaw(const torch::Tensor& rows, const std::vector<int64_t>& sendCounts,
                            const std::vector<int64_t>& recvCounts);

 private:
  std::unique_ptr<DistributedContext> group_;
  double seconds_ = 0, bytes_ = 0;
  struct Logged {
    std::vector<int64_t> send, recv;  // rows per rank; a count gather has `send` only
    int64_t width = 0;                // row width (0: a count gather)
    torch::ScalarType dtype = torch::kFloat;
  };
  bool recording_ = false;
  std::vector<Logged> log_;
};

}  // namespace moelab
