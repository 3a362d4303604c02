#pragma once
#include <torch/torch.h>

namespace moelab {

// LibTorch's AdamW with the update of each parameter done in one pass over memory: reads the
// parameter, its gradient and both moments once and writes them back once, instead of the eight
// tensor operations (and ~3x the memory traffic) of torch::optim::AdamW::step. Same per-element
// arithmetic in the same order, same state (AdamWParamState), so checkpoints and resume are
// unchanged. Uses the base step when the pass does not apply (amsgrad, CUDA, non-float or
// non-contiguous tensors).
//
// A parameter whose gradient is undefined but which has optimizer state is updated as if its
// gradient were zero: that lets the training step drop gradients (set to none) instead of filling
// them with zeros, with the update that zero_grad() + step() gives.
class FusedAdamW : public torch::optim::AdamW {
 public:
  using torch::optim::AdamW::AdamW;
  torch::Tensor step(LossClosure closure = nullptr) override;

 private:
  bool fusedPathApplies() const;
};

// Drops every parameter's gradient (the set_to_none form of zero_grad): backward then writes fresh
// gradient buffers instead of adding into zero-filled ones. For a FusedAdamW only; any other
// optimizer gets zero_grad().
void dropGradients(torch::optim::Optimizer& optimizer);

}  // namespace moelab
