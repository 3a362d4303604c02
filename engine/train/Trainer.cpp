#include "train/Trainer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "dist/DistributedContext.h"
#include "dist/ExpertParallel.h"
#include "dist/GradientAllReduce.h"
#include "model/ModelSize.h"
#include "train/Checkpoint.h"
#include "train/Evaluation.h"
#include "train/FusedAdamW.h"
#include "train/RoutingMetrics.h"
#include "train/TrainStep.h"
#include "util/Errors.h"
#include "util/SystemMemory.h"

namespace fs = std::filesystem;

namespace moelab {
namespace {
// [R, C] tensor -> rows of doubles: one copy to CPU doubles, then plain reads (item() per cell
// would dispatch R*C ops).
nlohmann::json matrixJson(const torch::Tensor& t) {
  auto cpu = t.to(torch::kCPU, torch::kDouble).contiguous();
  const double* p = cpu.data_ptr<double>();
  nlohmann::json rows = nlohmann::json::array();
  for (int64_t i = 0; i < cpu.size(0); ++i)
    rows.push_back(std::vector<double>(p + i * cpu.size(1), p + (i + 1) * cpu.size(1)));
  return rows;
}

double nowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}
}  // namespace

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

Trainer::~Trainer() = default;

Trainer::Trainer(const ExperimentConfig& cfg, const LmDataset& data, std::string checkpointDir,
                 MetricSink* sink, DistributedContext* dist)
    : cfg_(cfg),
      data_(data),
      checkpointDir_(std::move(checkpointDir)),
      sink_(sink),
      bestValLoss_(std::numeric_limits<double>::infinity()),
      dist_(dist && dist->worldSize() > 1 ? dist : nullptr) {
  const auto& t = cfg_.train;
  requirePrecisionSupported(cfg_);
  precision_ = trainingPrecision(cfg_);
  torch::manual_seed(uint64_t(t.seed));
  const ModelConfig modelCfg = resolveModelConfig(cfg_, data_.tokenizer->vocabSize());
  // Refuse what cannot fit before LibTorch tries to allocate it (a raw allocation failure otherwise).
  requireTrainingFits(estimateTrainingMemory(modelCfg, t.batchSize, dist_ ? dist_->worldSize() : 1),
                      systemMemory().totalBytes, 0, dist_ ? "one rank" : "training");
  const int64_t ep = cfg_.model.expertParallel;
  if (ep > 1 && (!dist_ || dist_->worldSize() != ep))
    throw UserError("model.expert_parallel = " + std::to_string(ep) + " splits the experts across " +
                    std::to_string(ep) + " ranks; start it with `train --nproc " + std::to_string(ep) + "`" +
                    (dist_ ? " (this job has " + std::to_string(dist_->worldSize()) + ")" : ""));
  if (ep > 1) {
    // Every rank takes part in every MoE layer's exchange, so no rank may have an empty shard.
    const int64_t last = data_.train.size() % t.batchSize;
    const int64_t batchesInSplit = (data_.train.size() + t.batchSize - 1) / t.batchSize;
    if (last > 0 && last < ep && (t.maxBatchesPerEpoch == 0 || t.maxBatchesPerEpoch >= batchesInSplit))
      throw UserError("with model.expert_parallel = " + std::to_string(ep) +
                      " the last batch of each epoch (" + std::to_string(last) +
                      " samples) would leave a rank without tokens; change "
                      "data.num_train_samples or train.batch_size so it has none or at least " +
                      std::to_string(ep) + " samples, or set train.max_batches_per_epoch");
  }
  // Expert parallel: each rank builds only its experts.
  model_ = LanguageModel(modelCfg, ep > 1 ? ExpertShard{dist_->rank(), int(ep)} : ExpertShard{});
  model_->train();
  optimizer_ = std::make_unique<FusedAdamW>(
      model_->parameters(), torch::optim::AdamWOptions(t.learningRate).weight_decay(t.weightDecay));
  stepsPerEpoch_ = (data_.train.size() + t.batchSize - 1) / t.batchSize;
  if (t.maxBatchesPerEpoch > 0) stepsPerEpoch_ = std::min(stepsPerEpoch_, t.maxBatchesPerEpoch);
  totalSteps_ = stepsPerEpoch_ * t.epochs;
  if (t.maxSteps > 0) totalSteps_ = std::min(totalSteps_, t.maxSteps);
  validation_ = validationSubset(data_.valid, t.evalBatches * t.batchSize, uint64_t(t.seed));
  if (dist_) {
    if (t.batchSize < dist_->worldSize())
      throw UserError("train.batch_size " + std::to_string(t.batchSize) + " is smaller than the " +
                      std::to_string(dist_->worldSize()) +
                      " ranks: the global batch is shared out, every rank needs at least one sample; "
                      "raise train.batch_size or use fewer ranks");
    if (ep > 1) {
      expertParallel_ = std::make_unique<ExpertParallel>(*dist_);
      model_->setExpertParallel(expertParallel_.get());
      expertShards_ = std::make_unique<ExpertShards>(model_, *dist_);
    }
    // The same seed builds the same weights everywhere; rank 0's are broadcast all the same, so a
    // rank can never start from different ones (its own experts' slices excepted).
    {
      torch::NoGradGuard noGrad;
      auto shared = expertShards_ ? expertShards_->replicated() : model_->parameters();
      for (auto& p : shared) dist_->broadcast(p, 0);
      for (auto& b : model_->buffers()) dist_->broadcast(b, 0);
    }
    gradientSync_ = std::make_unique<GradientAllReduce>(
        *dist_, expertShards_ ? expertShards_->replicated() : model_->parameters());
    // Rank 0 keeps the single-process random stream; the others their own (dropout masks differ).
    if (dist_->rank() > 0) torch::manual_seed(uint64_t(t.seed) + 7919ULL * uint64_t(dist_->rank()));
  }
}

double Trainer::learningRateAt(int64_t step) const {
  const auto& t = cfg_.train;
  if (t.warmupSteps > 0 && step < t.warmupSteps)
    return t.learningRate * double(step + 1) / double(t.warmupSteps);
  double from = t.learningRate;
  int64_t begin = t.warmupSteps;
  if (anchorStep_ >= 0 && step >= anchorStep_) {
    from = anchorRate_;
    begin = anchorStep_;
  }
  double span = std::max<int64_t>(1, totalSteps_ - begin);
  double progress = std::min(1.0, double(step - begin) / span);
  return t.minLearningRate + 0.5 * (from - t.minLearningRate) * (1.0 + std::cos(M_PI * progress));
}

std::vector<int64_t> Trainer::epochOrder(int64_t epoch) const {
  // Depends only on (seed, epoch), so a resumed run sees exactly the batches it would have seen.
  std::vector<int64_t> order(size_t(data_.train.size()));
  for (size_t i = 0; i < order.size(); ++i) order[i] = int64_t(i);
  std::mt19937_64 rng(uint64_t(cfg_.train.seed) * 1000003ULL + uint64_t(epoch));
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

int64_t Trainer::initWeightsFrom(const std::string& path) {
  const CheckpointState s = readCheckpointState(path);
  loadCheckpoint(path, model_, nullptr, /*restoreRng=*/false);
  if (expertShards_) expertShards_->cutToShard(nullptr);
  return s.step;
}

int64_t Trainer::resumeFrom(const std::string& path, bool extendHorizon) {
  CheckpointState s = readCheckpointState(path);
  const int64_t world = dist_ ? dist_->worldSize() : 1;
  if (s.worldSize != world)
    throw UserError("checkpoint " + path + " was written by a run on " + std::to_string(s.worldSize) +
                    (s.worldSize == 1 ? " process" : " ranks") +
                    " (it holds each rank's random state and data position); resume it with " +
                    (s.worldSize == 1 ? std::string("one process (no --nproc)")
                                      : "--nproc " + std::to_string(s.worldSize)) +
                    ", not " + std::to_string(world));
  loadCheckpoint(path, model_, optimizer_.get(), /*restoreRng=*/true, dist_ ? dist_->rank() : 0);
  if (expertShards_) expertShards_->cutToShard(optimizer_.get());  // the file holds every expert
  step_ = s.step;
  epoch_ = s.epoch;
  batchInEpoch_ = s.batchInEpoch;
  bestValLoss_ = s.bestValLoss;
  anchorStep_ = s.anchorStep;
  anchorRate_ = s.anchorRate;
  if (s.totalSteps == 0) {
    // Checkpoints from before the horizon was stored: rebuild it, and the rate of the next step,
    // from the config they were written with (same data and batch size, so same steps per epoch).
    const auto old = ExperimentConfig::fromJson(s.config).train;
    s.totalSteps = stepsPerEpoch_ * old.epochs;
    if (old.maxSteps > 0) s.totalSteps = std::min(s.totalSteps, old.maxSteps);
    std::swap(totalSteps_, s.totalSteps);
    s.nextLearningRate = learningRateAt(step_);
    std::swap(totalSteps_, s.totalSteps);
  }
  if (s.totalSteps != totalSteps_) {
    if (!extendHorizon || totalSteps_ < s.totalSteps)
      throw UserError("the schedule's horizon would change from " + std::to_string(s.totalSteps) + " to " +
                      std::to_string(totalSteps_) +
                      " steps, which moves the cosine learning rate (it would jump at the resume "
                      "step); pass --extend to train longer with the rate decaying smoothly from its "
                      "current value, or resume without changing epochs/max_steps");
    // After warm-up, restart the cosine from the rate the next step would have had: no jump.
    if (step_ >= cfg_.train.warmupSteps) {
      anchorStep_ = step_;
      anchorRate_ = s.nextLearningRate;
    }
  }
  return step_;
}

void Trainer::save(const std::string& path) {
  CheckpointState s;
  s.step = step_;
  s.epoch = epoch_;
  s.batchInEpoch = batchInEpoch_;
  s.bestValLoss = bestValLoss_;
  s.totalSteps = totalSteps_;
  s.anchorStep = anchorStep_;
  s.anchorRate = anchorRate_;
  s.nextLearningRate = learningRateAt(step_);
  s.vocabSize = model_->cfg.vocabSize;
  s.config = cfg_.json;
  s.tokenizer = data_.tokenizer->describe();
  const auto write = [&] {
    if (sink_) sink_->beforeCheckpoint(step_);
    const std::string digest = saveCheckpoint(path, s, model_, *optimizer_);
    lastSave_ = nowSeconds();
    if (sink_) sink_->onCheckpoint(step_, path, digest);
  };
  if (!dist_) return write();
  // Every rank's random state (and, with sharded experts, its experts) goes into rank 0's file; the
  // others write nothing.
  s.worldSize = dist_->worldSize();
  s.rankRng = dist_->allGather(at::detail::getDefaultCPUGenerator().get_state());
  const auto rankZeroWrites = [&] {
    if (dist_->rank() == 0) write();
  };
  if (expertShards_)
    expertShards_->withWholeExperts(*optimizer_, rankZeroWrites);
  else
    rankZeroWrites();
}

EvalResult Trainer::evaluateAndRecord() {
  std::vector<ExpertCoupling> coupling;
  const bool probe = cfg_.train.expertViews && cfg_.model.architecture == "gnn_moe";
  EvalResult r = evaluate(model_, validation_, cfg_.train.batchSize, probe ? &coupling : nullptr, dist_);
  const int64_t couplingTokens =
      probe && sink_ ? validation_.mask.slice(0, 0, std::min(validation_.size(), cfg_.train.batchSize))
                           .sum()
                           .item<int64_t>()
                     : 0;
  double now = nowSeconds();
  if (sink_) {
    sink_->onMetrics({{"val/loss", step_, r.loss, now},
                      {"val/perplexity", step_, r.perplexity, now},
                      {"val/tokens", step_, double(r.tokens), now},
                      {"val/samples", step_, double(r.samples), now}});
    // Coupling first: readers advance on adjacency, so they never pass a step before its coupling.
    if (!coupling.empty()) {
      nlohmann::json layers = nlohmann::json::array();
      for (const auto& c : coupling) {
        nlohmann::json effective = nlohmann::json::array(), spread = nlohmann::json::array();
        for (size_t g = 0; g < c.effective.size(); ++g) {
          effective.push_back(matrixJson(c.effective[g]));
          spread.push_back(matrixJson(c.spread[g]));
        }
        auto share = c.share.to(torch::kCPU, torch::kDouble).contiguous();
        layers.push_back({{"effective", effective},
                          {"spread", spread},
                          {"share", std::vector<double>(share.data_ptr<double>(),
                                                        share.data_ptr<double>() + share.numel())}});
      }
      sink_->onArtifact("coupling", step_, {{"layers", layers}, {"tokens", couplingTokens}});
    }
    auto adj = model_->adjacencies();
    if (!adj.empty()) {
      nlohmann::json layers = nlohmann::json::array();
      for (auto& layer : adj) {
        nlohmann::json gnn = nlohmann::json::array();
        for (auto& a : layer) gnn.push_back(matrixJson(a));
        layers.push_back(gnn);
      }
      sink_->onArtifact("adjacency", step_, {{"layers", layers}});
    }
  }
  if (std::isfinite(r.loss) && r.loss < bestValLoss_) {
    bestValLoss_ = r.loss;
    save(bestCheckpointPath());
  }
  return r;
}

bool Trainer::recordFullValidation(const EvalResult& periodic) {
  // The periodic evaluations may score a subset; the end of a run scores the whole split once, so
  // the final number is comparable with `moelab-cli eval --split valid`.
  EvalResult r = validation_.size() == data_.valid.size() && periodic.samples > 0
                     ? periodic
                     : evaluate(model_, data_.valid, cfg_.train.batchSize, nullptr, dist_);
  double now = nowSeconds();
  if (sink_)
    sink_->onMetrics({{"val_full/loss", step_, r.loss, now},
                      {"val_full/perplexity", step_, r.perplexity, now},
                      {"val_full/tokens", step_, double(r.tokens), now},
                      {"val_full/samples", step_, double(r.samples), now}});
  return std::isfinite(r.loss);
}

Trainer::Batch Trainer::nextBatch() {
  if (batchInEpoch_ >= stepsPerEpoch_) {
    ++epoch_;
    batchInEpoch_ = 0;
  }
  if (orderEpoch_ != epoch_) {
    order_ = epochOrder(epoch_);
    orderEpoch_ = epoch_;
  }
  const int64_t batch = cfg_.train.batchSize, at = batchInEpoch_ * batch;
  const int64_t end = std::min<int64_t>(int64_t(order_.size()), at + batch);
  auto rows = torch::from_blob(order_.data() + at, {end - at}, torch::kLong).clone();
  const auto& split = data_.train;
  Batch b;
  b.targets = split.targets.index_select(0, rows);
  b.globalTokens = b.targets.ne(-100).sum().item<int64_t>();
  if (dist_) {
    // A contiguous shard; a short last batch may leave a rank none (it still joins the exchanges).
    const int64_t n = end - at, w = dist_->worldSize(), r = dist_->rank();
    rows = rows.slice(0, n * r / w, n * (r + 1) / w);
    b.targets = split.targets.index_select(0, rows);
  }
  b.inputs = split.inputs.index_select(0, rows);
  b.mask = split.mask.index_select(0, rows);
  return b;
}

std::vector<MetricPoint> Trainer::rankTimings(const StepResult& r, double stepSeconds) {
  const int w = dist_->worldSize(), me = dist_->rank();
  constexpr int kParts = 5;
  std::vector<double> slots(size_t(kParts * w), 0.0);
  double* mine = slots.data() + kParts * me;
  mine[0] = std::max(0.0, stepSeconds - r.syncSeconds - r.allReduceSeconds - allToAllSeconds_);
  mine[1] = r.allReduceSeconds;
  mine[2] = r.syncSeconds;
  mine[3] = allToAllSeconds_;
  mine[4] = allToAllBytes_;
  slots = dist_->allReduceSum(slots);
  const double now = nowSeconds();
  std::vector<MetricPoint> m;
  for (int k = 0; k < w; ++k) {
    const std::string prefix = "dist/rank" + std::to_string(k) + "/";
    const double* theirs = slots.data() + kParts * k;
    m.push_back({prefix + "compute_s", step_, theirs[0], now});
    m.push_back({prefix + "allreduce_s", step_, theirs[1], now});
    m.push_back({prefix + "idle_s", step_, theirs[2], now});
    if (expertParallel_) {
      m.push_back({prefix + "alltoall_s", step_, theirs[3], now});
      m.push_back({prefix + "alltoall_bytes", step_, theirs[4], now});
    }
  }
  m.push_back({"dist/world_size", step_, double(w), now});
  m.push_back({"dist/allreduce_bytes", step_, double(gradientSync_->bytesPerStep()), now});
  return m;
}

void Trainer::reportStep(const StepResult& r, double lr, int64_t tokens,
                         const std::vector<RoutingStats>& routing, std::vector<MetricPoint> extra) {
  if (!sink_) return;
  const auto& t = cfg_.train;
  const double now = nowSeconds(), elapsed = now - runStart_;
  TrainProgress p;
  p.step = step_;
  p.totalSteps = totalSteps_;
  p.epoch = epoch_;
  p.loss = r.lmLoss;
  p.learningRate = lr;
  p.elapsedSeconds = elapsed;
  p.tokensPerSecond = elapsed > 0 ? double(tokensSeen_) / elapsed : 0;
  for (const auto& l : routing) {
    p.auxLoss += l.auxLoss / double(routing.size());
    p.droppedFraction += l.droppedFraction() / double(routing.size());
    p.maxViolation = std::max(p.maxViolation, l.maxViolation());
  }
  p.hasRouting = !routing.empty();
  p.etaSeconds = step_ > firstStep_ ? elapsed / double(step_ - firstStep_) * double(totalSteps_ - step_) : 0;
  if (step_ % t.logEvery == 0 || step_ == totalSteps_) {
    std::vector<MetricPoint> m{
        {"train/loss", step_, r.lmLoss, now},         {"train/lr", step_, lr, now},
        {"train/grad_norm", step_, r.gradNorm, now},  {"train/tokens_per_sec", step_, p.tokensPerSecond, now},
        {"train/tokens", step_, double(tokens), now}, {"train/epoch", step_, double(epoch_), now},
        {"system/rss_mb", step_, currentRssMb(), now}};
    recordRouting(routing, step_, now, m, t.expertViews ? sink_ : nullptr);
    m.insert(m.end(), extra.begin(), extra.end());
    sink_->onMetrics(m);
  }
  sink_->onProgress(p);
}

void Trainer::checkCheckpointFolder() const {
  // Found now rather than at the first save, after the training so far would be lost.
  const fs::path dir(checkpointDir_);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw UserError("cannot create the checkpoint folder " + checkpointDir_ + " (" +
                    (ec ? ec.message() : std::string("not a folder")) +
                    "); pass --checkpoint-dir with a writable folder");
  const fs::path probe = dir / (".write-test-" + std::to_string(::getpid()));
  {
    std::ofstream out(probe);
    out << "x";
    out.close();
    if (!out)
      throw UserError("the checkpoint folder " + checkpointDir_ +
                      " is not writable; pass --checkpoint-dir with a writable folder");
  }
  fs::remove(probe, ec);
  // last.pt, best.pt and one temporary copy while a save is in flight: weights + AdamW's two moments.
  const int64_t params = model_->parameterBreakdown().total;  // whole, also with sharded experts
  const double needed = 3.0 * 3.0 * double(params) * 4.0;
  const auto space = fs::space(dir, ec);
  if (!ec && double(space.available) < needed)
    throw UserError(
        "the checkpoint folder " + checkpointDir_ + " has " + std::to_string(space.available / 1000000) +
        " MB free, but checkpoints of this model need about " + std::to_string(int64_t(needed / 1e6)) +
        " MB (last, best and a temporary copy); free disk space or pass --checkpoint-dir");
}

RunOutcome Trainer::run(const std::atomic<bool>* stop) {
  const auto& t = cfg_.train;
  checkCheckpointFolder();
  runStart_ = nowSeconds();
  lastSave_ = runStart_;
  firstStep_ = step_;
  tokensSeen_ = 0;
  divergence_.clear();
  EvalResult lastEval;
  while (step_ < totalSteps_) {
    Batch b = nextBatch();
    const double lr = learningRateAt(step_);
    for (auto& group : optimizer_->param_groups()) group.options().set_lr(lr);
    // Data parallel: the stop request and a time-based save are agreed by all ranks at every step
    // (a rank acting alone would leave the others waiting in a collective).
    const bool stopRequested = stop && stop->load();
    const bool saveDue = t.checkpointMinutes > 0 && nowSeconds() - lastSave_ >= 60.0 * t.checkpointMinutes;
    DataParallelStep dp;
    if (dist_) {
      dp.dist = dist_;
      dp.gradients = gradientSync_.get();
      dp.shards = expertShards_.get();
      dp.localTokens = double(b.targets.ne(-100).sum().item<int64_t>());
      dp.globalTokens = double(b.globalTokens);
      dp.sync = {stopRequested ? 1.0 : 0.0, saveDue && dist_->rank() == 0 ? 1.0 : 0.0};
    }
    const auto stepStart = std::chrono::steady_clock::now();
    if (expertParallel_) {  // the step's exchanges only, not the evaluation's before it
      expertParallel_->takeSeconds();
      expertParallel_->takeBytes();
    }
    StepResult r = trainStep(model_, *optimizer_, b.inputs, b.targets, b.mask, t.gradClip, precision_,
                             dist_ ? &dp : nullptr);
    const double stepSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - stepStart).count();
    if (expertParallel_) {
      allToAllSeconds_ = expertParallel_->takeSeconds();
      allToAllBytes_ = expertParallel_->takeBytes();
    }
    // One process reads its flags after the step, as it always has.
    auto stopNow = [&] { return dist_ ? dp.sync[0] > 0 : stop && stop->load(); };
    const bool timedSave =
        dist_ ? dp.sync[1] > 0
              : t.checkpointMinutes > 0 && nowSeconds() - lastSave_ >= 60.0 * t.checkpointMinutes;
    if (r.diverged) {
      // The update was skipped; `last` stays the last good checkpoint (no save here).
      divergence_ = "step " + std::to_string(step_ + 1) + ": " + r.problem + "; update skipped";
      if (sink_) {
        const double now = nowSeconds();
        sink_->onMetrics(
            {{"train/loss", step_ + 1, r.lmLoss, now}, {"train/grad_norm", step_ + 1, r.gradNorm, now}});
      }
      return RunOutcome::Diverged;
    }
    ++step_;
    ++batchInEpoch_;
    const int64_t tokens = b.globalTokens;
    tokensSeen_ += tokens;
    const bool logged = step_ % t.logEvery == 0 || step_ == totalSteps_;
    auto routing = model_->routingStats();
    if (dist_ && logged && !routing.empty())  // the global batch's routing, not rank 0's shard
      routing = routingOverRanks(*dist_, std::move(routing), cfg_.model.numExperts, b.inputs.size(0) > 0);
    reportStep(r, lr, tokens, routing,
               dist_ && logged ? rankTimings(r, stepSeconds) : std::vector<MetricPoint>{});
    const bool epochEnd = batchInEpoch_ >= stepsPerEpoch_;
    if ((t.evalEvery > 0 && step_ % t.evalEvery == 0) || (t.evalEvery == 0 && epochEnd) ||
        step_ == totalSteps_) {
      lastEval = evaluateAndRecord();
      if (!std::isfinite(lastEval.loss)) {
        // Weights that score NaN are not saved as `last`: it stays the last good checkpoint.
        divergence_ =
            "step " + std::to_string(step_) + ": validation loss is " + std::to_string(lastEval.loss);
        return RunOutcome::Diverged;
      }
      save(lastCheckpointPath());
    } else if ((t.checkpointEvery > 0 && step_ % t.checkpointEvery == 0) || timedSave) {
      save(lastCheckpointPath());  // a cadence of its own: evaluations may be hours apart
    }
    if (stopNow() && step_ < totalSteps_) {
      save(lastCheckpointPath());
      return RunOutcome::Interrupted;
    }
  }
  if (!recordFullValidation(lastEval)) {
    divergence_ = "step " + std::to_string(step_) + ": validation loss on the whole split is not finite";
    return RunOutcome::Diverged;
  }
  return RunOutcome::Finished;
}

}  // namespace moelab
