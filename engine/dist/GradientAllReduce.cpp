#include "dist/GradientAllReduce.h"

#include <chrono>

namespace moelab {

GradientAllReduce::GradientAllReduce(DistributedContext& dist, std::vector<torch::Tensor> parameters,
                                     int64_t bucketBytes)
    : dist_(dist) {
  for (auto& p : parameters)
    if (p.requires_grad()) params_.push_back(p);
  slots_.resize(params_.size());
  // Reverse registration order: the last layers' gradients come first in backward. Each bucket
  // ends with one presence flag per parameter, summed with the gradients (no extra collective).
  std::vector<std::vector<size_t>> groups(1);
  int64_t bytes = 0;
  for (size_t k = params_.size(); k-- > 0;) {
    const int64_t b = params_[k].numel() * int64_t(sizeof(float));
    if (!groups.back().empty() && bytes + b > bucketBytes) {
      groups.emplace_back();
      bytes = 0;
    }
    groups.back().push_back(k);
    bytes += b;
  }
  for (auto& g : groups) {
    if (g.empty()) continue;
    Bucket bucket;
    int64_t offset = 0;
    for (size_t i = 0; i < g.size(); ++i) {
      slots_[g[i]] = {buckets_.size(), offset, i, false};
      offset += params_[g[i]].numel();
    }
    bucket.flat = torch::zeros({offset + int64_t(g.size())}, params_[g[0]].options().dtype(torch::kFloat));
    bucket.params = g;
    totalBytes_ += bucket.flat.numel() * int64_t(sizeof(float));
    buckets_.push_back(std::move(bucket));
  }
  for (size_t k = 0; k < params_.size(); ++k)
    hooks_.push_back(params_[k].register_hook([this, k](const torch::Tensor& g) { onGradient(k, g); }));
  beginStep();
}

GradientAllReduce::~GradientAllReduce() {
  for (size_t k = 0; k < params_.size(); ++k) params_[k].remove_hook(hooks_[k]);
}

void GradientAllReduce::beginStep() {
  for (auto& b : buckets_) {
    b.pending = b.params.size();
    b.work.reset();
    b.flat.narrow(0, b.flat.numel() - int64_t(b.params.size()), int64_t(b.params.size())).zero_();
  }
  for (auto& s : slots_) s.arrived = false;
  nextLaunch_ = 0;
}

void GradientAllReduce::onGradient(size_t k, const torch::Tensor& grad) {
  if (!grad.defined()) return;
  torch::NoGradGuard noGrad;
  Slot& s = slots_[k];
  Bucket& b = buckets_[s.bucket];
  auto dst = b.flat.narrow(0, s.offset, params_[k].numel());
  if (s.arrived) {  // a second gradient for one parameter in one backward: accumulate
    dst.add_(grad.reshape(-1));
    return;
  }
  dst.copy_(grad.reshape(-1));
  b.flat.data_ptr<float>()[b.flat.numel() - int64_t(b.params.size()) + int64_t(s.indexInBucket)] = 1.0f;
  s.arrived = true;
  if (--b.pending == 0) launchReady();
}

void GradientAllReduce::launchReady() {
  while (nextLaunch_ < buckets_.size() && buckets_[nextLaunch_].pending == 0) {
    Bucket& b = buckets_[nextLaunch_++];
    b.work = dist_.allReduceSumAsync(b.flat);
  }
}

double GradientAllReduce::finish() {
  const auto start = std::chrono::steady_clock::now();
  torch::NoGradGuard noGrad;
  // Parameters without a gradient on this rank contribute zeros (their flag stays 0).
  for (auto& b : buckets_) {
    if (b.pending == 0) continue;
    for (size_t k : b.params)
      if (!slots_[k].arrived) b.flat.narrow(0, slots_[k].offset, params_[k].numel()).zero_();
    b.pending = 0;
  }
  launchReady();
  for (auto& b : buckets_) b.work->wait();
  for (auto& b : buckets_) {
    const int64_t flagAt = b.flat.numel() - int64_t(b.params.size());
    const float* flags = b.flat.data_ptr<float>() + flagAt;
    for (size_t i = 0; i < b.params.size(); ++i) {
      const size_t k = b.params[i];
      auto& p = params_[k];
      if (flags[i] > 0)
        p.mutable_grad() = b.flat.narrow(0, slots_[k].offset, p.numel()).view(p.sizes());
      else
        p.mutable_grad() = torch::Tensor();
    }
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace moelab
