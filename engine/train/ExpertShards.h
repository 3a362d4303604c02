#pragma once
#include <torch/torch.h>

#include <functional>
#include <vector>

#include "model/LanguageModel.h"

namespace moelab {

class DistributedContext;

// The training side of expert parallel with sharded experts: every rank holds only its slice of
// each MoE layer's experts (LanguageModel::setExpertParallel), trains it with the gradients the
// all-to-all brings back (they already sum every rank's tokens, so they skip the all-reduce), and
// keeps that slice's AdamW moments alone. Checkpoints stay whole: a save gathers every rank's
// slices into rank 0's file, and a whole checkpoint read into a sharded model is cut back to this
// rank's slices, so an expert-parallel checkpoint loads in one process and the other way round.
class ExpertShards {
 public:
  // After setExpertParallel: the model's sharded and replicated parameters, as they are now.
  ExpertShards(LanguageModel& model, DistributedContext& group);

  const std::vector<torch::Tensor>& sharded() const { return sharded_; }
  // What every rank holds the same copy of: the parameters the gradient all-reduce averages.
  const std::vector<torch::Tensor>& replicated() const { return replicated_; }

  // A collective: the L2 norm of the whole model's gradient (replicated parameters once, every
  // rank's expert slices), the same on every rank.
  double gradientNorm() const;

  // A collective: runs `body` with each sharded parameter and its AdamW moments whole (every rank's
  // slices gathered, in rank order), then puts this rank's slices back.
  void withWholeExperts(torch::optim::Optimizer& optimizer, const std::function<void()>& body);

  // After a whole checkpoint was read into the model (and optimizer): keep this rank's slices of
  // the weights and of their AdamW moments.
  void cutToShard(torch::optim::Optimizer* optimizer);

 private:
  DistributedContext& group_;
  std::vector<torch::Tensor> sharded_, replicated_;
  std::vector<int64_t> shardRows_;  // each sharded parameter's leading size here
};

}  // namespace moelab
