#include "dist/ExpertParallel.h"

#include <algorithm>
#include <chrono>

namespace moelab {
namespace {

// All-to-all of rows with autograd: backward is the same exchange with the counts swapped.
struct AllToAllRows : torch::autograd::Function<AllToAllRows> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& rows,
                               ExpertParallel* ep, std::vector<int64_t> send, std::vector<int64_t> recv) {
    ctx->saved_data["ep"] = int64_t(reinterpret_cast<intptr_t>(ep));
    ctx->saved_data["send"] = send;
    ctx->saved_data["recv"] = recv;
    return ep->exchangeRaw(rows, send, recv);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto* ep = reinterpret_cast<ExpertParallel*>(intptr_t(ctx->saved_data["ep"].toInt()));
    const auto send = ctx->saved_data["send"].toIntVector(), recv = ctx->saved_data["recv"].toIntVector();
    return {ep->exchangeRaw(grads[0], recv, send), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

ExpertParallel::ExpertParallel(DistributedContext& dist) : group_(dist.subgroup("expert-parallel")) {}

std::vector<std::vector<int64_t>> ExpertParallel::gatherCounts(const std::vector<int64_t>& counts) {
  if (recording_) log_.push_back({counts, {}, 0});
  const auto start = std::chrono::steady_clock::now();
  auto all = group_->allGather(torch::tensor(counts, torch::kLong));
  std::vector<std::vector<int64_t>> out;
  for (auto& t : all) out.emplace_back(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

torch::Tensor ExpertParallel::exchangeRaw(const torch::Tensor& rows, const std::vector<int64_t>& send,
                                          const std::vector<int64_t>& recv) {
  if (recording_) log_.push_back({send, recv, rows.dim() > 1 ? rows.size(1) : 1, rows.scalar_type()});
  const auto start = std::chrono::steady_clock::now();
  auto out = group_->allToAll(rows.contiguous(), send, recv);
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int64_t rowBytes = rows.dim() > 1 ? rows.size(1) * int64_t(rows.element_size()) : 0;
  for (size_t r = 0; r < send.size(); ++r)
    if (int(r) != rank()) bytes_ += double(send[r] * rowBytes);
  return out;
}

torch::Tensor ExpertParallel::exchange(const torch::Tensor& rows, const std::vector<int64_t>& send,
                                       const std::vector<int64_t>& recv) {
  return AllToAllRows::apply(rows, this, send, recv);
}

ExpertParallel::Link ExpertParallel::measureLink() {
  auto timeOf = [&](int64_t rowsPerPeer, int reps) {
    const int w = worldSize();
    std::vector<int64_t> counts(size_t(w), rowsPerPeer);
    auto rows = torch::ones({rowsPerPeer * w, 256});
    std::vector<double> t;
    for (int i = 0; i < reps; ++i) {
      const auto start = std::chrono::steady_clock::now();
      group_->allToAll(rows, counts, counts);
      t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
  };
  group_->barrier();
  Link link;
  link.floorSeconds = timeOf(1, 21);
  const int64_t big = 4096;  // 4 MB to each peer
  const double t = timeOf(big, 7);
  link.bytesPerSecond = double(big * 256 * 4) / std::max(1e-9, t - link.floorSeconds);
  return link;
}

double ExpertParallel::replayRecorded(int repeats) {
  recording_ = false;
  std::vector<torch::Tensor> inputs;
  for (const auto& e : log_) {
    int64_t rows = 0;
    for (auto n : e.send) rows += n;
    inputs.push_back(e.width == 0 ? torch::tensor(e.send, torch::kLong)
                                  : torch::ones({rows, e.width}, torch::TensorOptions().dtype(e.dtype)));
  }
  std::vector<double> totals;
  for (int r = 0; r < repeats; ++r) {
    double total = 0;
    for (size_t i = 0; i < log_.size(); ++i) {
      group_->barrier();
      const auto start = std::chrono::steady_clock::now();
      if (log_[i].width == 0)
        group_->allGather(inputs[i]);
      else
        group_->allToAll(inputs[i], log_[i].send, log_[i].recv);
      total += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    totals.push_back(total);
  }
  log_.clear();
  if (totals.empty()) return 0;
  std::sort(totals.begin(), totals.end());
  return totals[totals.size() / 2];
}

double ExpertParallel::takeSeconds() {
  const double s = seconds_;
  seconds_ = 0;
  return s;
}

double ExpertParallel::takeBytes() {
  const double b = bytes_;
  bytes_ = 0;
  return b;
}

}  // namespace moelab
