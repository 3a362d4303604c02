#include "profile/ReassignmentStudy.h"

#include <cmath>

#include "sim/Scenario.h"
#include "util/Errors.h"

namespace moelab {

nlohmann::json runReassignmentStudy(LanguageModel& model, const TokenSplit& samples,
                                    const std::string& source, const ReassignmentStudy& study) {
  const ModelConfig& cfg = model->cfg;
  if (cfg.architecture != "sparse_moe")
    throw UserError("reassignment strategies change a sparse_moe router; this model is " + cfg.architecture);
  std::vector<ReassignSpec> strategies = study.strategies;
  if (strategies.empty() || strategies.front().active())
    strategies.insert(strategies.begin(), ReassignSpec{});
  for (const auto& s : strategies) s.validate(cfg.numExperts, cfg.topK);

  nlohmann::json rows = nlohmann::json::array();
  nlohmann::json out = {{"source", source}, {"samples", samples.size()}, {"scenario", study.scenarioDoc}};
  double basePpl = 0, baseTime = 0;
  for (size_t i = 0; i < strategies.size(); ++i) {
    const ReassignSpec& s = strategies[i];
    ProfileOptions o = study.profile;
    o.strategy = s;
    o.measureLoss = true;  // the perplexity change is half of the trade-off
    if (study.progress)
      o.progress = [&](int64_t done, int64_t total) {
        return study.progress(int64_t(i), int64_t(strategies.size()), s.label(), done, total);
      };
    const RoutingProfile p = profileRouting(model, samples, source, o);
    if (!std::isfinite(p.perplexity))
      throw UserError("reassignment: the " + s.label() + " routing gave a non-finite perplexity on " +
                      source + " (the weights are damaged or the run diverged)");
    const auto scenario =
        sim::Scenario::fromJson(sim::withMeasuredTraffic(study.scenarioDoc, p.traffic()));
    const auto result = sim::runScenario(scenario);
    out["cluster"] = scenario.cluster.name;
    out["gpus"] = scenario.cluster.gpus();
    const double ms = result["step_ms"]["mean"].get<double>();
    if (i == 0) basePpl = p.perplexity, baseTime = ms;
    const LoadImbalance m = p.mean();
    int64_t dropped = 0;
    for (const auto& l : p.layers) dropped += l.dropped;
    rows.push_back({{"strategy", s.label()},
                    {"perplexity", p.perplexity},
                    {"perplexity_change", p.perplexity / basePpl - 1},
                    {"loss", p.loss},
                    {"gini", m.gini},
                    {"cv", m.cv},
                    {"entropy", m.entropy},
                    {"max_mean", m.maxMean},
                    {"dead", m.dead},
                    {"dropped", m.total > 0 ? double(dropped) / m.total : 0.0},
                    {"alltoall_ms", ms},
                    {"alltoall_change", ms / baseTime - 1},
                    {"slowdown_vs_balanced", result["slowdown_vs_balanced"]},
                    {"profile", p.toJson()}});
  }
  out["rows"] = rows;
  return out;
}

}  // namespace moelab
