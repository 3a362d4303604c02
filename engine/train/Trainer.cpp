#include "train/Trainer.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <random>

#include "train/Checkpoint.h"
#include "util/Errors.h"

namespace moelab {
namespace {
double nowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}
}  // namespace

void recordRouting(const std::vector<RoutingStats>& layers, int64_t step, double wallTime,
                   std::vector<MetricPoint>& out, MetricSink* sink) {
  if (layers.empty()) return;
  struct Metric {
    const char* name;
    double (*of)(const RoutingStats&);
  };
  static const Metric metrics[] = {
      {"cv", [](const RoutingStats& r) { return r.coefficientOfVariation(); }},
      {"load_entropy", [](const RoutingStats& r) { return r.normalisedEntropy(); }},
      {"gini", [](const RoutingStats& r) { return r.gini(); }},
      {"max_vio", [](const RoutingStats& r) { return r.maxViolation(); }},
      {"dead_experts", [](const RoutingStats& r) { return double(r.deadExperts()); }},
      {"dropped_fraction", [](const RoutingStats& r) { return r.droppedFraction(); }},
      {"router_entropy", [](const RoutingStats& r) { return r.routerEntropy; }},
      {"top1_prob", [](const RoutingStats& r) { return r.top1Probability; }},
      {"aux_loss", [](const RoutingStats& r) { return r.auxLoss; }},
      {"z_loss", [](const RoutingStats& r) { return r.zLoss; }},
  };
  nlohmann::json counts = nlohmann::json::array();
  for (size_t l = 0; l < layers.size(); ++l) {
    const std::string prefix = "moe/layer" + std::to_string(l) + "/";
    for (const auto& m : metrics) out.push_back({prefix + m.name, step, m.of(layers[l]), wallTime});
    auto f = layers[l].loadFractions();
    for (size_t e = 0; e < f.size(); ++e)
      out.push_back({prefix + "load/" + std::to_string(e), step, f[e], wallTime});
    out.push_back({prefix + "tokens", step, double(layers[l].assignments), wallTime});
    counts.push_back(layers[l].tokensPerExpert);
  }
  for (const auto& m : metrics) {
    double sum = 0, mx = -1e300;
    for (const auto& r : layers) {
      sum += m.of(r);
      mx = std::max(mx, m.of(r));
    }
    out.push_back({std::string("moe/") + m.name + "_mean", step, sum / double(layers.size()), wallTime});
    out.push_back({std::string("moe/") + m.name + "_max", step, mx, wallTime});
  }
  if (sink) sink->onArtifact("expert_counts", step, {{"layers", counts}});
}

std::string toString(RunOutcome o) {
  switch (o) {
    case RunOutcome::Finished:
      return "finished";
    case RunOutcome::Interrupted:
      return "interrupted";
    case RunOutcome::Diverged:
      return "diverged";
  }
  return "unknown";
}

ModelConfig resolveModelConfig(const ExperimentConfig& cfg, int64_t tokenizerVocab) {
  ModelConfig m = cfg.model;
  if (m.vocabSize == 0) m.vocabSize = tokenizerVocab;
  return m;
}

EvalResult evaluate(LanguageModel& model, const TokenSplit& split, int64_t batchSize, int64_t maxBatches) {
  torch::NoGradGuard noGrad;
  const bool wasTraining = model->is_training();
  model->eval();
  double lossSum = 0;
  int64_t tokens = 0;
  for (int64_t b = 0, at = 0; at < split.size() && (maxBatches == 0 || b < maxBatches);
       ++b, at += batchSize) {
    int64_t end = std::min(split.size(), at + batchSize);
    auto logits = model->forward(split.inputs.slice(0, at, end));
    auto targets = split.targets.slice(0, at, end);
    lossSum += torch::nn::functional::cross_entropy(
                   logits.reshape({-1, logits.size(-1)}), targets.reshape({-1}),
                   torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100).reduction(torch::kSum))
                   .item<double>();
    tokens += targets.ne(-100).sum().item<int64_t>();
  }
  model->train(wasTraining);
  EvalResult r;
  r.tokens = tokens;
  r.loss = tokens > 0 ? lossSum / double(tokens) : std::numeric_limits<double>::quiet_NaN();
  r.perplexity = std::exp(r.loss);
  return r;
}

Trainer::Trainer(const ExperimentConfig& cfg, const LmDataset& data, std::string checkpointDir,
                 MetricSink* sink)
    : cfg_(cfg),
      data_(data),
      checkpointDir_(std::move(checkpointDir)),
      sink_(sink),
      bestValLoss_(std::numeric_limits<double>::infinity()) {
  const auto& t = cfg_.train;
  torch::manual_seed(uint64_t(t.seed));
  model_ = LanguageModel(resolveModelConfig(cfg_, data_.tokenizer->vocabSize()));
  model_->train();
  optimizer_ = std::make_unique<torch::optim::AdamW>(
      model_->parameters(), torch::optim::AdamWOptions(t.learningRate).weight_decay(t.weightDecay));
  stepsPerEpoch_ = (data_.train.size() + t.batchSize - 1) / t.batchSize;
  if (t.maxBatchesPerEpoch > 0) stepsPerEpoch_ = std::min(stepsPerEpoch_, t.maxBatchesPerEpoch);
  totalSteps_ = stepsPerEpoch_ * t.epochs;
  if (t.maxSteps > 0) totalSteps_ = std::min(totalSteps_, t.maxSteps);
}

double Trainer::learningRateAt(int64_t step) const {
  const auto& t = cfg_.train;
  if (t.warmupSteps > 0 && step < t.warmupSteps)
    return t.learningRate * double(step + 1) / double(t.warmupSteps);
  double span = std::max<int64_t>(1, totalSteps_ - t.warmupSteps);
  double progress = std::min(1.0, double(step - t.warmupSteps) / span);
  return t.minLearningRate + 0.5 * (t.learningRate - t.minLearningRate) * (1.0 + std::cos(M_PI * progress));
}

std::vector<int64_t> Trainer::epochOrder(int64_t epoch) const {
  // Depends only on (seed, epoch), so a resumed run sees exactly the batches it would have seen.
  std::vector<int64_t> order(size_t(data_.train.size()));
  for (size_t i = 0; i < order.size(); ++i) order[i] = int64_t(i);
  std::mt19937_64 rng(uint64_t(cfg_.train.seed) * 1000003ULL + uint64_t(epoch));
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

int64_t Trainer::resumeFrom(const std::string& path) {
  CheckpointState s = readCheckpointState(path);
  loadCheckpoint(path, model_, optimizer_.get(), /*restoreRng=*/true);
  step_ = s.step;
  epoch_ = s.epoch;
  batchInEpoch_ = s.batchInEpoch;
  bestValLoss_ = s.bestValLoss;
  return step_;
}

void Trainer::save(const std::string& path) {
  CheckpointState s;
  s.step = step_;
  s.epoch = epoch_;
  s.batchInEpoch = batchInEpoch_;
  s.bestValLoss = bestValLoss_;
  s.config = cfg_.json;
  s.tokenizer = data_.tokenizer->describe();
  saveCheckpoint(path, s, model_, *optimizer_);
  if (sink_) sink_->onCheckpoint(step_, path);
}

void Trainer::evaluateAndRecord() {
  EvalResult r = evaluate(model_, data_.valid, cfg_.train.batchSize, cfg_.train.evalBatches);
  double now = nowSeconds();
  if (sink_) {
    sink_->onMetrics({{"val/loss", step_, r.loss, now}, {"val/perplexity", step_, r.perplexity, now}});
    auto adj = model_->adjacencies();
    if (!adj.empty()) {
      nlohmann::json layers = nlohmann::json::array();
      for (auto& layer : adj) {
        nlohmann::json gnn = nlohmann::json::array();
        for (auto& a : layer) {
          // One copy to CPU doubles, then plain reads (item() per cell would dispatch E*E ops).
          auto cpu = a.to(torch::kCPU, torch::kDouble).contiguous();
          const double* p = cpu.data_ptr<double>();
          std::vector<std::vector<double>> m;
          for (int64_t i = 0; i < cpu.size(0); ++i)
            m.emplace_back(p + i * cpu.size(1), p + (i + 1) * cpu.size(1));
          gnn.push_back(m);
        }
        layers.push_back(gnn);
      }
      sink_->onArtifact("adjacency", step_, {{"layers", layers}});
    }
  }
  if (std::isfinite(r.loss) && r.loss < bestValLoss_) {
    bestValLoss_ = r.loss;
    save(bestCheckpointPath());
  }
}

RunOutcome Trainer::run(const std::atomic<bool>* stop) {
  const auto& t = cfg_.train;
  const double start = nowSeconds();
  const int64_t firstStep = step_;
  int64_t tokensSeen = 0;
  std::vector<int64_t> order = epochOrder(epoch_);
  while (step_ < totalSteps_) {
    if (batchInEpoch_ >= stepsPerEpoch_) {
      ++epoch_;
      batchInEpoch_ = 0;
      order = epochOrder(epoch_);
    }
    int64_t at = batchInEpoch_ * t.batchSize;
    int64_t end = std::min<int64_t>(int64_t(order.size()), at + t.batchSize);
    auto idx = torch::from_blob(order.data() + at, {end - at}, torch::kLong).clone();
    auto inputs = data_.train.inputs.index_select(0, idx);
    auto targets = data_.train.targets.index_select(0, idx);

    const double lr = learningRateAt(step_);
    for (auto& group : optimizer_->param_groups()) group.options().set_lr(lr);
    optimizer_->zero_grad();
    auto loss = languageModelLoss(model_->forward(inputs), targets);
    const double lossValue = loss.item<double>();
    auto aux = model_->auxiliaryLoss();  // sparse_moe: load-balancing + z-loss, already weighted
    if (aux.defined()) loss = loss + aux;
    if (!std::isfinite(lossValue)) {
      if (sink_) sink_->onMetrics({{"train/loss", step_ + 1, lossValue, nowSeconds()}});
      return RunOutcome::Diverged;  // `last` stays the last good checkpoint
    }
    loss.backward();
    double gradNorm = t.gradClip > 0 ? torch::nn::utils::clip_grad_norm_(model_->parameters(), t.gradClip)
                                     : std::numeric_limits<double>::quiet_NaN();
    optimizer_->step();
    model_->afterOptimizerStep();
    ++step_;
    ++batchInEpoch_;
    tokensSeen += targets.ne(-100).sum().item<int64_t>();

    const double now = nowSeconds(), elapsed = now - start;
    TrainProgress p;
    p.step = step_;
    p.totalSteps = totalSteps_;
    p.epoch = epoch_;
    p.loss = lossValue;
    p.learningRate = lr;
    p.elapsedSeconds = elapsed;
    p.tokensPerSecond = elapsed > 0 ? double(tokensSeen) / elapsed : 0;
    if (auto routing = model_->routingStats(); !routing.empty()) {
      for (const auto& r : routing) {
        p.auxLoss += r.auxLoss / double(routing.size());
        p.droppedFraction += r.droppedFraction() / double(routing.size());
        p.maxViolation = std::max(p.maxViolation, r.maxViolation());
      }
      p.hasRouting = true;
    }
    p.etaSeconds = step_ > firstStep ? elapsed / double(step_ - firstStep) * double(totalSteps_ - step_) : 0;
    if (sink_) {
      if (step_ % t.logEvery == 0 || step_ == totalSteps_) {
        std::vector<MetricPoint> m{{"train/loss", step_, lossValue, now},
                                   {"train/lr", step_, lr, now},
                                   {"train/tokens_per_sec", step_, p.tokensPerSecond, now},
                                   {"train/epoch", step_, double(epoch_), now}};
        if (t.gradClip > 0) m.push_back({"train/grad_norm", step_, gradNorm, now});
        recordRouting(model_->routingStats(), step_, now, m, sink_);
        sink_->onMetrics(m);
      }
      sink_->onProgress(p);
    }
    const bool epochEnd = batchInEpoch_ >= stepsPerEpoch_;
    if ((t.evalEvery > 0 && step_ % t.evalEvery == 0) || (t.evalEvery == 0 && epochEnd) ||
        step_ == totalSteps_) {
      evaluateAndRecord();
      save(lastCheckpointPath());
    }
    if (stop && stop->load() && step_ < totalSteps_) {
      save(lastCheckpointPath());
      return RunOutcome::Interrupted;
    }
  }
  return RunOutcome::Finished;
}

}  // namespace moelab
