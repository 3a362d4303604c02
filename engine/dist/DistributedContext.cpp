// c10d's Gloo process group is declared only under these (LibTorch was built with them).
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#ifndef USE_DISTRIBUTED
#define USE_DISTRIBUTED
#endif
#include "dist/DistributedContext.h"

#include <chrono>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "dist/RankLauncher.h"
#include "util/Errors.h"

namespace moelab {
namespace {
std::string c10dMessage(const std::exception& e) {
  if (const auto* t = dynamic_cast<const c10::Error*>(&e)) return t->what_without_backtrace();
  return e.what();
}

std::string failedKey(int rank) {
  return "moelab/failed/" + std::to_string(rank);
}
}  // namespace

struct DistributedContext::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

namespace {
class PendingWork : public PendingCollective {
 public:
  PendingWork(c10::intrusive_ptr<c10d::Work> work, std::function<void(const std::exception&)> onError)
      : work_(std::move(work)), onError_(std::move(onError)) {}
  void wait() override {
    try {
      work_->wait();
    } catch (const std::exception& e) {
      onError_(e);
      throw;
    }
  }

 private:
  c10::intrusive_ptr<c10d::Work> work_;
  std::function<void(const std::exception&)> onError_;
};
}  // namespace

DistributedContext::DistributedContext(const DistributedSpec& spec)
    : spec_(spec), impl_(std::make_unique<Impl>()) {
  if (spec_.backend != "gloo")
    throw UserError("distributed backend \"" + spec_.backend +
                    "\": this build of MoE Lab runs on CPUs with gloo only (nccl needs a CUDA build of "
                    "LibTorch with NCCL); use --backend gloo");
  const auto timeout = std::chrono::milliseconds(int64_t(spec_.timeoutSeconds * 1000));
  const std::string where = spec_.masterAddr + ":" + std::to_string(spec_.masterPort);
  try {
    c10d::TCPStoreOptions o;
    o.port = uint16_t(spec_.masterPort);
    o.isServer = spec_.rank == 0;
    o.numWorkers = size_t(spec_.worldSize);
    o.waitWorkers = true;
    o.timeout = timeout;
    impl_->store = c10::make_intrusive<c10d::TCPStore>(spec_.masterAddr, o);
  } catch (const std::exception& e) {
    throw DistributedError("rank " + std::to_string(spec_.rank) + " could not meet the other " +
                           std::to_string(spec_.worldSize - 1) + " ranks at " + where + " within " +
                           std::to_string(int(spec_.timeoutSeconds)) + " s (" + c10dMessage(e) +
                           "); check that every rank was started with the same MASTER_ADDR/MASTER_PORT and "
                           "WORLD_SIZE and that the port is reachable");
  }
  try {
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    // Loopback for a single-node job; otherwise the address this host resolves to.
    options->devices.push_back(spec_.masterAddr == "127.0.0.1" || spec_.masterAddr == "localhost"
                                   ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                   : c10d::ProcessGroupGloo::createDefaultDevice());
    options->threads = 2;
    impl_->group =
        c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, spec_.rank, spec_.worldSize, options);
  } catch (const std::exception& e) {
    throw DistributedError("rank " + std::to_string(spec_.rank) + " could not connect its process group (" +
                           c10dMessage(e) + ")");
  }
}

DistributedContext::~DistributedContext() = default;

DistributedContext::DistributedContext(const DistributedSpec& spec, std::unique_ptr<Impl> impl)
    : spec_(spec), impl_(std::move(impl)) {}

std::unique_ptr<DistributedContext> DistributedContext::subgroup(const std::string& name) {
  auto impl = std::make_unique<Impl>();
  impl->store = impl_->store;
  try {
    auto options = c10d::ProcessGroupGloo::Options::create(
        std::chrono::milliseconds(int64_t(spec_.timeoutSeconds * 1000)));
    options->devices = impl_->group->getOptions()->devices;
    options->threads = 1;
    auto prefixed = c10::make_intrusive<c10d::PrefixStore>("moelab/" + name, impl_->store);
    impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, spec_.rank, spec_.worldSize, options);
  } catch (const std::exception& e) {
    throw DistributedError("rank " + std::to_string(spec_.rank) + " could not connect the " + name +
                           " process group (" + c10dMessage(e) + ")");
  }
  return std::unique_ptr<DistributedContext>(new DistributedContext(spec_, std::move(impl)));
}

void DistributedContext::fail(const char* what, const std::string& detail) {
  // A rank that failed with an error of its own left it in the store: name it.
  std::string named;
  for (int r = 0; r < spec_.worldSize && named.empty(); ++r) {
    if (r == spec_.rank) continue;
    try {
      if (impl_->store->check({failedKey(r)})) {
        auto v = impl_->store->get(failedKey(r));
        named = "rank " + std::to_string(r) + " failed: " + std::string(v.begin(), v.end());
      }
    } catch (const std::exception&) {
      break;  // the store itself is gone with rank 0
    }
  }
  throw DistributedError(std::string(what) + " across " + std::to_string(spec_.worldSize) + " ranks " +
                         kCollectiveBroke + " " + std::to_string(spec_.rank) + ": " +
                         (named.empty() ? "another rank stopped responding (" + detail + ")" : named));
}

void DistributedContext::guarded(const char* what, const std::function<void()>& body) {
  try {
    body();
  } catch (const DistributedError&) {
    throw;
  } catch (const std::exception& e) {
    fail(what, c10dMessage(e));
  }
}

void DistributedContext::allReduceSum(torch::Tensor& t) {
  guarded("an all-reduce", [&] {
    std::vector<at::Tensor> ts{t};
    impl_->group->allreduce(ts)->wait();
  });
}

std::vector<double> DistributedContext::allReduceSum(const std::vector<double>& values) {
  auto t = torch::tensor(values, torch::kDouble);
  allReduceSum(t);
  return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
}

std::unique_ptr<PendingCollective> DistributedContext::allReduceSumAsync(torch::Tensor t) {
  c10::intrusive_ptr<c10d::Work> work;
  guarded("an all-reduce of gradients", [&] {
    std::vector<at::Tensor> ts{std::move(t)};
    work = impl_->group->allreduce(ts);
  });
  return std::make_unique<PendingWork>(std::move(work), [this](const std::exception& e) {
    fail("an all-reduce of gradients", c10dMessage(e));
  });
}

void DistributedContext::broadcast(torch::Tensor& t, int root) {
  guarded("a broadcast", [&] {
    std::vector<at::Tensor> ts{t};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    impl_->group->broadcast(ts, o)->wait();
  });
}

std::vector<torch::Tensor> DistributedContext::allGather(const torch::Tensor& t) {
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < spec_.worldSize; ++r) out[0].push_back(torch::empty_like(t));
  guarded("an all-gather", [&] {
    std::vector<at::Tensor> in{t.contiguous()};
    impl_->group->allgather(out, in)->wait();
  });
  return out[0];
}

std::vector<int64_t> DistributedContext::exchangeCounts(const std::vector<int64_t>& sendCounts) {
  auto in = torch::tensor(sendCounts, torch::kLong), out = torch::empty_like(in);
  guarded("an exchange of token counts", [&] {
    std::vector<int64_t> equal;
    impl_->group->alltoall_base(out, in, equal, equal)->wait();
  });
  return std::vector<int64_t>(out.data_ptr<int64_t>(), out.data_ptr<int64_t>() + out.numel());
}

torch::Tensor DistributedContext::allToAll(const torch::Tensor& input, const std::vector<int64_t>& sendCounts,
                                           const std::vector<int64_t>& recvCounts) {
  int64_t rows = 0;
  for (auto c : recvCounts) rows += c;
  auto shape = input.sizes().vec();
  shape[0] = rows;
  auto out = torch::empty(shape, input.options());
  auto in = input.contiguous();
  guarded("an all-to-all", [&] {
    std::vector<int64_t> send = sendCounts, recv = recvCounts;
    impl_->group->alltoall_base(out, in, recv, send)->wait();
  });
  return out;
}

void DistributedContext::barrier() {
  guarded("a barrier", [&] { impl_->group->barrier()->wait(); });
}

void DistributedContext::reportFailure(const std::string& message) noexcept {
  try {
    impl_->store->set(failedKey(spec_.rank), std::vector<uint8_t>(message.begin(), message.end()));
  } catch (...) {
  }
}

void DistributedContext::setKey(const std::string& key, const std::string& value) {
  guarded("a store write", [&] { impl_->store->set(key, std::vector<uint8_t>(value.begin(), value.end())); });
}

std::string DistributedContext::getKey(const std::string& key) {
  std::string value;
  guarded("a store read", [&] {
    auto v = impl_->store->get(key);
    value.assign(v.begin(), v.end());
  });
  return value;
}

}  // namespace moelab
