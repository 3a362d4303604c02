#include "model/RouteReassignment.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "util/Errors.h"

namespace moelab {
namespace {

// Uniform (0, 1) keys from a seeded engine, [N, E] fp32.
torch::Tensor uniformKeys(int64_t n, int64_t e, std::mt19937_64& rng) {
  auto out = torch::empty({n, e}, torch::kFloat);
  std::uniform_real_distribution<float> u(1e-7f, 1.0f);
  float* p = out.data_ptr<float>();
  for (int64_t i = 0; i < n * e; ++i) p[i] = u(rng);
  return out;
}

// Row indices by descending best score: confident tokens keep their choices first.
std::vector<int64_t> byConfidence(const torch::Tensor& scores) {
  auto best = std::get<0>(scores.max(-1)).contiguous();
  const float* b = best.data_ptr<float>();
  std::vector<int64_t> order(size_t(scores.size(0)));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t c) { return b[a] > b[c]; });
  return order;
}

// Each row's experts reordered best score first.
torch::Tensor sortRowsByScore(const torch::Tensor& chosen, const torch::Tensor& scores) {
  auto s = scores.gather(1, chosen);
  auto order = std::get<1>(s.sort(-1, /*descending=*/true));
  return chosen.gather(1, order);
}

}  // namespace

const std::vector<std::string>& ReassignSpec::strategies() {
  static const std::vector<std::string> names = {"none",   "balanced",      "round_robin",
                                                 "random", "topk_filtered", "temperature"};
  return names;
}

ReassignSpec ReassignSpec::parse(const std::string& text) {
  ReassignSpec s;
  const auto colon = text.find(':');
  s.strategy = text.substr(0, colon);
  const auto& names = strategies();
  if (std::find(names.begin(), names.end(), s.strategy) == names.end())
    throw UserError("unknown reassignment strategy \"" + s.strategy +
                    "\": expected none, balanced, round_robin, random[:SEED], topk_filtered[:M] or "
                    "temperature[:T]");
  if (colon == std::string::npos) return s;
  const std::string arg = text.substr(colon + 1);
  try {
    size_t used = 0;
    if (s.strategy == "topk_filtered") {
      s.topM = std::stoll(arg, &used);
      if (s.topM < 1) throw std::invalid_argument("m");
    } else if (s.strategy == "temperature") {
      s.temperature = std::stod(arg, &used);
      if (!(s.temperature > 0) || !std::isfinite(s.temperature)) throw std::invalid_argument("T");
    } else if (s.strategy == "random") {
      s.seed = std::stoull(arg, &used);
    } else {
      throw std::invalid_argument("none");
    }
    if (used != arg.size()) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    throw UserError("reassignment strategy \"" + text +
                    "\": the value after ':' must be topk_filtered:M (an integer >= 1), temperature:T "
                    "(a number > 0) or random:SEED; " +
                    s.strategy + " takes " +
                    (s.strategy == "topk_filtered" || s.strategy == "temperature" || s.strategy == "random"
                         ? "a number"
                         : "no value"));
  }
  return s;
}

std::string ReassignSpec::label() const {
  if (strategy == "topk_filtered" && topM > 0) return strategy + ":" + std::to_string(topM);
  if (strategy == "temperature") {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", temperature);
    return strategy + ":" + buf;
  }
  if (strategy == "random") return strategy + ":" + std::to_string(seed);
  return strategy;
}

int64_t ReassignSpec::candidates(int64_t experts, int64_t k) const {
  return topM > 0 ? topM : std::min(experts, 2 * k);
}

void ReassignSpec::validate(int64_t experts, int64_t k) const {
  if (strategy == "topk_filtered" && (candidates(experts, k) < k || candidates(experts, k) > experts))
    throw UserError("topk_filtered:" + std::to_string(candidates(experts, k)) + " needs top_k (" +
                    std::to_string(k) + ") <= m <= the number of experts (" + std::to_string(experts) + ")");
}

RouteReassigner::RouteReassigner(ReassignSpec spec) : spec_(std::move(spec)), rng_(spec_.seed) {}

torch::Tensor RouteReassigner::choose(const torch::Tensor& scoresIn, const torch::Tensor& logitsIn,
                                      int64_t k) {
  torch::NoGradGuard g;
  const auto scores = scoresIn.detach().to(torch::kCPU, torch::kFloat).contiguous();
  const int64_t N = scores.size(0), E = scores.size(1);
  torch::Tensor chosen;
  if (spec_.strategy == "balanced") {
    chosen = balanced(scores, k);
  } else if (spec_.strategy == "topk_filtered") {
    chosen = leastLoadedOfTopM(scores, k);
  } else if (spec_.strategy == "round_robin") {
    auto a = torch::arange(N * k, torch::kLong).reshape({N, k}) + cursor_;
    cursor_ = (cursor_ + N * k) % E;
    chosen = sortRowsByScore(a.remainder(E), scores);
  } else if (spec_.strategy == "random") {
    chosen = sortRowsByScore(std::get<1>(uniformKeys(N, E, rng_).topk(k, -1)), scores);
  } else if (spec_.strategy == "temperature") {
    chosen = gumbelTopK(logitsIn.detach().to(torch::kCPU, torch::kFloat), spec_.temperature, k);
    chosen = sortRowsByScore(chosen, scores);
  } else {
    chosen = std::get<1>(scores.topk(k, -1));
  }
  return chosen.to(scoresIn.device());
}

torch::Tensor RouteReassigner::gumbelTopK(const torch::Tensor& logits, double temperature, int64_t k) {
  // argtop-k of logits/T + Gumbel noise samples k experts without replacement from softmax(logits/T).
  auto u = uniformKeys(logits.size(0), logits.size(1), rng_);
  auto gumbel = -torch::log(-torch::log(u));
  return std::get<1>((logits / temperature + gumbel).topk(k, -1));
}

torch::Tensor RouteReassigner::balanced(const torch::Tensor& scores, int64_t k) const {
  const int64_t N = scores.size(0), E = scores.size(1);
  const int64_t fair = (k * N + E - 1) / E;
  std::vector<int64_t> room(size_t(E), fair);
  auto ranked = std::get<1>(scores.sort(-1, /*descending=*/true)).contiguous();  // [N, E]
  const int64_t* rank = ranked.data_ptr<int64_t>();
  auto out = torch::empty({N, k}, torch::kLong);
  int64_t* o = out.data_ptr<int64_t>();
  const auto order = byConfidence(scores);
  std::vector<char> taken(static_cast<size_t>(E));
  for (size_t t = 0; t < order.size(); ++t) {
    const int64_t n = order[t], remaining = N - int64_t(t);
    std::fill(taken.begin(), taken.end(), 0);
    int64_t got = 0;
    // Experts with room for every remaining token must take this one too, or some later token
    // would find fewer than k experts with room (sum_e min(room_e, remaining) >= k * remaining
    // holds at the start and this keeps it). Best score first among them.
    for (int64_t r = 0; r < E && got < k; ++r) {
      const int64_t e = rank[n * E + r];
      if (room[size_t(e)] >= remaining) taken[size_t(e)] = 1, ++got;
    }
    for (int64_t r = 0; r < E && got < k; ++r) {
      const int64_t e = rank[n * E + r];
      if (!taken[size_t(e)] && room[size_t(e)] > 0) taken[size_t(e)] = 1, ++got;
    }
    int64_t j = 0;
    for (int64_t r = 0; r < E; ++r) {
      const int64_t e = rank[n * E + r];
      if (!taken[size_t(e)]) continue;
      o[n * k + j++] = e;
      --room[size_t(e)];
    }
  }
  return out;
}

torch::Tensor RouteReassigner::leastLoadedOfTopM(const torch::Tensor& scores, int64_t k) const {
  const int64_t N = scores.size(0), E = scores.size(1), m = spec_.candidates(E, k);
  auto top = std::get<1>(scores.topk(m, -1)).contiguous();  // [N, m], best first
  const int64_t* cand = top.data_ptr<int64_t>();
  std::vector<int64_t> load(size_t(E), 0);
  auto out = torch::empty({N, k}, torch::kLong);
  int64_t* o = out.data_ptr<int64_t>();
  std::vector<int64_t> pick(static_cast<size_t>(m));
  for (int64_t n : byConfidence(scores)) {
    std::iota(pick.begin(), pick.end(), 0);
    // The k least-loaded candidates; among equal loads the better score (lower rank) wins.
    std::stable_sort(pick.begin(), pick.end(), [&](int64_t a, int64_t b) {
      return load[size_t(cand[n * m + a])] < load[size_t(cand[n * m + b])];
    });
    std::sort(pick.begin(), pick.begin() + k);  // best score first in the output row
    for (int64_t j = 0; j < k; ++j) {
      const int64_t e = cand[n * m + pick[size_t(j)]];
      o[n * k + j] = e;
      ++load[size_t(e)];
    }
  }
  return out;
}

}  // namespace moelab
