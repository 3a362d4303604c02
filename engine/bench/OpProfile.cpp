#include "bench/OpProfile.h"

#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <chrono>
#include <map>

namespace moelab {

bool isGemmOp(const std::string& name) {
  static const char* const gemms[] = {"aten::mm",      "aten::addmm",    "aten::addmm_", "aten::bmm",
                                      "aten::baddbmm", "aten::baddbmm_", "aten::addbmm", "aten::addbmm_",
                                      "aten::addmv",   "aten::addmv_",   "aten::mv"};
  const std::string op = name.substr(0, name.find(' '));
  return std::find(std::begin(gemms), std::end(gemms), op) != std::end(gemms);
}

namespace {
std::string withShapes(const torch::autograd::profiler::LegacyEvent& e) {
  std::string s = e.name();
  for (const auto& shape : e.shapes()) {
    if (shape.empty()) continue;
    s += " [";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
    s += "]";
  }
  return s;
}
}  // namespace

OpProfile profileOps(const std::function<void()>& work, bool byShape) {
  namespace prof = torch::autograd::profiler;
  using torch::profiler::impl::ProfilerConfig;
  using torch::profiler::impl::ProfilerState;
  const auto start = std::chrono::steady_clock::now();
  prof::enableProfilerLegacy(ProfilerConfig(ProfilerState::CPU, /*report_input_shapes=*/byShape));
  try {
    work();
  } catch (...) {
    prof::disableProfilerLegacy();
    throw;
  }
  const auto lists = prof::disableProfilerLegacy();
  OpProfile out;
  out.totalSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Each thread's ranges nest: a pop closes the innermost open push with its handle. Self time =
  // the range's time minus its children's.
  struct Open {
    const prof::LegacyEvent* push;
    double childUs = 0;
  };
  std::map<std::string, OpTime> byName;
  for (const auto& events : lists) {
    std::vector<Open> stack;
    for (const auto& e : events) {
      if (e.kind() == prof::EventKind::PushRange) {
        stack.push_back({&e});
      } else if (e.kind() == prof::EventKind::PopRange) {
        auto it = std::find_if(stack.rbegin(), stack.rend(),
                               [&](const Open& o) { return o.push->handle() == e.handle(); });
        if (it == stack.rend()) continue;
        const double us = it->push->cpuElapsedUs(e);
        const std::string name = byShape ? withShapes(*it->push) : std::string(it->push->name());
        OpTime& t = byName[name];
        t.name = name;
        t.selfSeconds += std::max(0.0, us - it->childUs) / 1e6;
        ++t.calls;
        stack.erase(std::next(it).base(), stack.end());
        if (!stack.empty()) stack.back().childUs += us;
      }
    }
  }
  for (auto& [name, t] : byName) {
    if (isGemmOp(name)) out.gemmSeconds += t.selfSeconds;
    out.ops.push_back(t);
  }
  std::sort(out.ops.begin(), out.ops.end(),
            [](const OpTime& a, const OpTime& b) { return a.selfSeconds > b.selfSeconds; });
  return out;
}

}  // namespace moelab
