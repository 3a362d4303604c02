#include "profile/RoutingProfiler.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "util/Errors.h"

namespace moelab {
namespace {

std::vector<std::vector<double>> toMatrix(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU, torch::kDouble).contiguous();
  std::vector<std::vector<double>> out(size_t(c.size(0)));
  for (int64_t i = 0; i < c.size(0); ++i)
    out[size_t(i)].assign(c[i].data_ptr<double>(), c[i].data_ptr<double>() + c.size(1));
  return out;
}

// Adds `counts` ([groups * E] int64) into rows of `into` ([groups][E]).
void accumulate(std::vector<std::vector<int64_t>>& into, const torch::Tensor& counts, int64_t groups,
                int64_t E) {
  const int64_t* c = counts.data_ptr<int64_t>();
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t e = 0; e < E; ++e) into[size_t(g)][size_t(e)] += c[g * E + e];
}

// Restores top-k routing and stops recording however the profile ends.
struct ProfilingScope {
  LanguageModel& model;
  bool wasTraining;
  ProfilingScope(LanguageModel& m, const ReassignSpec& spec) : model(m), wasTraining(m->is_training()) {
    model->eval();
    model->setReassignment(spec);
    model->recordRoutingChoices(true);
  }
  ~ProfilingScope() {
    model->setReassignment({});
    model->recordRoutingChoices(false);
    model->recordCoupling(false);
    if (wasTraining) model->train();
  }
};

}  // namespace

RoutingProfile profileRouting(LanguageModel& model, const TokenSplit& split, const std::string& source,
                              const ProfileOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const ModelConfig& cfg = model->cfg;
  if (split.size() == 0) throw UserError("profile: " + source + " has no samples to profile");
  if (o.batchSize < 1) throw UserError("profile: batch size must be at least 1");
  if (o.positionBuckets < 0 || o.shards < 0)
    throw UserError("profile: position buckets and shards must be >= 0");
  const bool sparse = cfg.architecture == "sparse_moe", gnn = cfg.architecture == "gnn_moe";
  if (!sparse && !gnn)
    throw UserError("profile: a " + cfg.architecture +
                    " model has no experts to profile (sparse_moe or gnn_moe)");
  if (o.strategy.active() && !sparse)
    throw UserError("profile: reassignment strategies apply to sparse_moe routers, not " + cfg.architecture);

  RoutingProfile p;
  p.architecture = cfg.architecture;
  p.source = source;
  p.strategy = o.strategy.label();
  p.experts = cfg.numExperts;
  p.topK = sparse ? cfg.topK : cfg.numExperts;
  p.seqLen = split.inputs.size(1);
  p.positionBuckets = sparse ? std::min(o.positionBuckets, p.seqLen) : 0;
  p.shards = sparse ? o.shards : 0;
  const int64_t E = p.experts, T = p.seqLen, N = split.size();

  torch::NoGradGuard noGrad;
  ProfilingScope scope(model, o.strategy);
  double nll = 0;
  int64_t targets = 0;
  std::vector<double> couplingWeight;
  for (int64_t b = 0; b < N; b += o.batchSize) {
    const int64_t end = std::min(N, b + o.batchSize);
    TokenSplit batch = split.slice(b, end);
    if (gnn) model->recordCoupling(true);
    const auto hidden = model->hiddenStates(batch.inputs, batch.mask);
    // Routing on non-finite activations would record arbitrary choices as if they were real.
    if (!torch::isfinite(hidden).all().item<bool>())
      throw UserError("profile: the model's activations are not finite on " + source +
                      " (the weights are damaged or the run diverged)");
    if (o.measureLoss) {
      const auto logits = model->logitsOf(hidden);
      nll += torch::nn::functional::cross_entropy(
                 logits.reshape({-1, logits.size(-1)}).to(torch::kFloat), batch.targets.reshape({-1}),
                 torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100).reduction(torch::kSum))
                 .item<double>();
      targets += batch.numTargets;
    }
    const auto real = batch.mask.reshape({-1}).nonzero().reshape({-1});  // the rows the routers saw
    p.tokens += real.size(0);

    if (sparse) {
      const auto stats = model->routingStats();
      const auto choices = model->lastRoutingChoices();
      if (p.layers.empty()) {
        p.layers.resize(stats.size());
        for (auto& l : p.layers) {
          l.counts.assign(size_t(E), 0);
          l.byPosition.assign(size_t(p.positionBuckets), std::vector<int64_t>(size_t(E), 0));
          l.byShard.assign(size_t(p.shards), std::vector<int64_t>(size_t(E), 0));
        }
      }
      const int64_t k = cfg.topK;
      // Position bucket and source shard of each routed token, repeated for its k choices.
      const auto pos = real.remainder(T), row = real.div(T, "floor") + b;
      const auto bucket = p.positionBuckets > 0 ? (pos * p.positionBuckets).div(T, "floor") : torch::Tensor();
      const auto shard = p.shards > 0 ? row.remainder(p.shards) : torch::Tensor();
      for (size_t l = 0; l < stats.size(); ++l) {
        auto& L = p.layers[l];
        for (int64_t e = 0; e < E; ++e) L.counts[size_t(e)] += stats[l].tokensPerExpert[size_t(e)];
        L.dropped += stats[l].dropped;
        const auto experts = choices[l].reshape({-1});
        if (experts.size(0) != real.size(0) * k)
          throw std::logic_error("profile: routing record does not match the routed tokens");
        if (p.positionBuckets > 0)
          accumulate(L.byPosition,
                     torch::bincount(bucket.repeat_interleave(k) * E + experts, {}, p.positionBuckets * E),
                     p.positionBuckets, E);
        if (p.shards > 0)
          accumulate(L.byShard, torch::bincount(shard.repeat_interleave(k) * E + experts, {}, p.shards * E),
                     p.shards, E);
      }
    } else {
      const auto coupling = model->lastCoupling();
      const double w = double(real.size(0));
      if (p.couplings.empty()) {
        p.couplings.resize(coupling.size());
        couplingWeight.assign(coupling.size(), 0);
      }
      for (size_t l = 0; l < coupling.size(); ++l) {
        auto& C = p.couplings[l];
        const auto& c = coupling[l];
        if (C.effective.empty()) {
          for (size_t g = 0; g < c.effective.size(); ++g) {
            C.effective.push_back(toMatrix(torch::zeros_like(c.effective[g])));
            C.spread.push_back(toMatrix(torch::zeros_like(c.spread[g])));
          }
          C.share.assign(size_t(E), 0);
        }
        // Token-weighted sums of each batch's mean and mean square, so the spread at the end is the
        // std across every profiled token, not a mean of per-batch stds.
        for (size_t g = 0; g < c.effective.size(); ++g) {
          const auto eff = toMatrix(c.effective[g]), spr = toMatrix(c.spread[g]);
          for (size_t i = 0; i < eff.size(); ++i)
            for (size_t j = 0; j < eff[i].size(); ++j) {
              C.effective[g][i][j] += w * eff[i][j];
              C.spread[g][i][j] += w * (spr[i][j] * spr[i][j] + eff[i][j] * eff[i][j]);
            }
        }
        auto share = c.share.to(torch::kCPU, torch::kDouble).contiguous();
        for (int64_t e = 0; e < E; ++e) C.share[size_t(e)] += w * share.data_ptr<double>()[e];
        couplingWeight[l] += w;
      }
    }
    p.samples = end;
    if (o.progress && !o.progress(end, N)) throw Cancelled("profile cancelled");
  }
  for (size_t l = 0; l < p.couplings.size(); ++l) {
    const double w = couplingWeight[l] > 0 ? couplingWeight[l] : 1;
    auto& C = p.couplings[l];
    for (size_t g = 0; g < C.effective.size(); ++g)
      for (size_t i = 0; i < C.effective[g].size(); ++i)
        for (size_t j = 0; j < C.effective[g][i].size(); ++j) {
          const double mean = C.effective[g][i][j] / w, square = C.spread[g][i][j] / w;
          C.effective[g][i][j] = mean;
          C.spread[g][i][j] = std::sqrt(std::max(0.0, square - mean * mean));
        }
    for (auto& v : C.share) v /= w;
  }
  p.lossMeasured = o.measureLoss;
  p.loss = !o.measureLoss ? std::nan("") : targets > 0 ? nll / double(targets) : 0;
  p.perplexity = std::exp(p.loss);
  p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return p;
}

}  // namespace moelab
