#pragma once
#include <torch/torch.h>

#include <memory>
#include <vector>

#include "dist/DistributedContext.h"

namespace moelab {

// Data-parallel gradient averaging overlapped with backward, as c10d's Reducer does it: the
// parameters are grouped into buckets of about `bucketBytes` in reverse order (the order backward
// produces their gradients); a hook on each parameter copies its gradient into its bucket, and a
// bucket whose gradients are all in is summed across ranks asynchronously while backward goes on.
// Buckets are launched strictly in order on every rank, so the collectives match even when ranks
// see their gradients in a different order or a parameter gets none on some rank.
class GradientAllReduce {
 public:
  GradientAllReduce(DistributedContext& dist, std::vector<torch::Tensor> parameters,
                    int64_t bucketBytes = 8 << 20);
  ~GradientAllReduce();
  GradientAllReduce(const GradientAllReduce&) = delete;
  GradientAllReduce& operator=(const GradientAllReduce&) = delete;

  // Before backward: forget the previous step's gradients.
  void beginStep();
  // After backward: launches what is left, waits for every bucket, and leaves each parameter's
  // gradient as the sum over ranks (a parameter that no rank gave a gradient keeps none, as in one
  // process). Returns the seconds spent waiting here (communication backward did not hide).
  double finish();

  int64_t bytesPerStep() const { return totalBytes_; }
  size_t buckets() const { return buckets_.size(); }

 private:
  void onGradient(size_t param, const torch::Tensor& grad);
  void launchReady();  // buckets complete and next in order

  struct Bucket {
    torch::Tensor flat;          // the bucket's gradients, one after another
    std::vector<size_t> params;  // indices into params_
    size_t pending = 0;          // gradients still to arrive this step
    std::unique_ptr<PendingCollective> work;
  };
  struct Slot {
    size_t bucket = 0;
    int64_t offset = 0;
    size_t indexInBucket = 0;  // its presence flag's place after the bucket's gradients
    bool arrived = false;
  };
  DistributedContext& dist_;
  std::vector<torch::Tensor> params_;
  std::vector<Slot> slots_;
  std::vector<Bucket> buckets_;
  std::vector<unsigned> hooks_;
  size_t nextLaunch_ = 0;
  int64_t totalBytes_ = 0;
};

}  // namespace moelab
