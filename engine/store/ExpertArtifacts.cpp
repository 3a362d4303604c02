#include "store/ExpertArtifacts.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "sim/TrafficModel.h"
#include "store/ExperimentStore.h"
#include "util/Errors.h"

namespace moelab {
namespace {

std::vector<std::vector<Matrix>> matricesOf(const nlohmann::json& layers) {
  std::vector<std::vector<Matrix>> out;
  for (const auto& layer : layers) out.push_back(layer.get<std::vector<Matrix>>());
  return out;
}

template <class Snapshot>
void mergeSteps(std::vector<Snapshot>& mine, std::vector<Snapshot>& newer) {
  if (newer.empty()) return;
  const int64_t first = newer.front().step;
  mine.erase(std::remove_if(mine.begin(), mine.end(), [&](const Snapshot& s) { return s.step >= first; }),
             mine.end());
  for (auto& s : newer) mine.push_back(std::move(s));
}

}  // namespace

void ExpertArtifacts::merge(ExpertArtifacts newer) {
  mergeSteps(coupling, newer.coupling);
  mergeSteps(counts, newer.counts);
}

ExpertArtifacts readExpertArtifacts(const ExperimentStore& store, int64_t run, int64_t couplingAfter,
                                    int64_t countsAfter) {
  ExpertArtifacts out;
  // adjacency and coupling are written at the same evaluations; a run from before the coupling
  // probe has adjacency alone.
  auto coupling = store.artifacts(run, "coupling", couplingAfter);
  size_t at = 0;
  for (const auto& a : store.artifacts(run, "adjacency", couplingAfter)) {
    CouplingSnapshot s;
    s.step = a.step;
    s.adjacency = matricesOf(a.content.value("layers", nlohmann::json::array()));
    while (at < coupling.size() && coupling[at].step < a.step) ++at;
    if (at < coupling.size() && coupling[at].step == a.step) {
      const auto& c = coupling[at].content;
      s.tokens = c.value("tokens", int64_t(0));
      for (const auto& layer : c.value("layers", nlohmann::json::array())) {
        s.effective.push_back(layer.at("effective").get<std::vector<Matrix>>());
        s.spread.push_back(layer.at("spread").get<std::vector<Matrix>>());
        s.share.push_back(layer.at("share").get<std::vector<double>>());
      }
    }
    out.coupling.push_back(std::move(s));
  }
  for (const auto& a : store.artifacts(run, "expert_counts", countsAfter)) {
    ExpertCountsSnapshot s;
    s.step = a.step;
    s.layers = a.content.value("layers", nlohmann::json::array()).get<std::vector<std::vector<double>>>();
    out.counts.push_back(std::move(s));
  }
  return out;
}

std::vector<std::vector<double>> runExpertCounts(const ExperimentStore& store, int64_t run, int64_t step,
                                                 int64_t* usedStep) {
  auto all = store.artifacts(run, "expert_counts");
  if (all.empty())
    throw UserError("run " + std::to_string(run) +
                    " has no stored expert counts: only sparse_moe runs trained with train.expert_views on "
                    "record them (at every log step)");
  const ArtifactRecord* pick = &all.back();
  if (step >= 0) {
    auto it = std::find_if(all.begin(), all.end(), [&](const ArtifactRecord& a) { return a.step == step; });
    if (it == all.end())
      throw UserError("run " + std::to_string(run) + " has no expert counts at step " + std::to_string(step) +
                      " (stored steps " + std::to_string(all.front().step) + " to " +
                      std::to_string(all.back().step) + ", every train.log_every steps)");
    pick = &*it;
  }
  if (usedStep) *usedStep = pick->step;
  return pick->content.value("layers", nlohmann::json::array()).get<std::vector<std::vector<double>>>();
}

LoadSummary summariseLoad(const std::vector<double>& counts) {
  LoadSummary s;
  if (counts.empty()) return s;
  const double n = double(counts.size());
  const double mean = std::accumulate(counts.begin(), counts.end(), 0.0) / n;
  if (mean <= 0) return s;
  double var = 0;
  for (double c : counts) var += (c - mean) * (c - mean);
  s.cv = std::sqrt(var / n) / mean;
  s.maxOverMean = *std::max_element(counts.begin(), counts.end()) / mean;
  s.gini = sim::giniOf(counts);
  return s;
}

}  // namespace moelab
