#pragma once
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dist/DistributedSpec.h"

namespace moelab {

// A collective that did not complete: a rank died, hung past the timeout, or the rendezvous
// failed. The message names the operation and, when it left one, the rank that failed first.
struct DistributedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A rank > 0 told by rank 0 that the run was refused (rank 0 prints why): exit 2 quietly.
struct RankDeclined : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A pending collective; wait() returns once it is done (throws DistributedError on failure).
class PendingCollective {
 public:
  virtual ~PendingCollective() = default;
  virtual void wait() = 0;
};

// This process's place in a job and its collectives, on LibTorch's c10d: a TCPStore (served by
// rank 0) for the rendezvous and small keys, a ProcessGroupGloo (CPU tensors) for the data. c10d
// headers stay in the .cpp. Every rank must call the collectives in the same order.
class DistributedContext {
 public:
  // Rendezvous with the other ranks; throws DistributedError when they do not all arrive within
  // the spec's timeout (naming the master address and what to check).
  explicit DistributedContext(const DistributedSpec& spec);
  ~DistributedContext();
  // A second process group over the same ranks (its own collective sequence, so its collectives
  // never interleave with this one's): expert-parallel exchanges run beside the gradient
  // all-reduce. Every rank creates it at the same point.
  std::unique_ptr<DistributedContext> subgroup(const std::string& name);

  int rank() const { return spec_.rank; }
  int worldSize() const { return spec_.worldSize; }
  const DistributedSpec& spec() const { return spec_; }

  // In place, summed over ranks.
  void allReduceSum(torch::Tensor& t);
  std::vector<double> allReduceSum(const std::vector<double>& values);
  std::unique_ptr<PendingCollective> allReduceSumAsync(torch::Tensor t);
  void broadcast(torch::Tensor& t, int root);
  // Every rank's `t` (same shape and dtype everywhere), in rank order.
  std::vector<torch::Tensor> allGather(const torch::Tensor& t);
  // Rows of `input` split by `sendCounts` (one per rank, summing to its first dimension) go to each
  // rank; returns what every rank sent here, in rank order (recvCounts[r] rows from rank r). The
  // counts must agree across ranks (exchangeCounts gives them).
  torch::Tensor allToAll(const torch::Tensor& input, const std::vector<int64_t>& sendCounts,
                         const std::vector<int64_t>& recvCounts);
  // Each rank's `sendCounts[r]` arrives at rank r: returns recvCounts.
  std::vector<int64_t> exchangeCounts(const std::vector<int64_t>& sendCounts);
  void barrier();
  // Leaves this rank's error where the others look when their collective breaks (best effort).
  void reportFailure(const std::string& message) noexcept;

  // Small keys through the store (rank 0's configuration for the others). get() waits up to the
  // timeout for the key to appear.
  void setKey(const std::string& key, const std::string& value);
  std::string getKey(const std::string& key);

 private:
  // Runs a collective; a c10d failure becomes a DistributedError naming `what`.
  void guarded(const char* what, const std::function<void()>& body);
  [[noreturn]] void fail(const char* what, const std::string& detail);

  struct Impl;
  DistributedContext(const DistributedSpec& spec, std::unique_ptr<Impl> impl);
  DistributedSpec spec_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace moelab
