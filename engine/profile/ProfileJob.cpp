#include "profile/ProfileJob.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "data/LmDataset.h"
#include "data/TextSource.h"
#include "profile/ReassignmentStudy.h"
#include "profile/RoutingProfiler.h"
#include "store/ExperimentStore.h"
#include "train/ModelLoader.h"
#include "util/Errors.h"

namespace moelab {
namespace {

// The model and the samples to route.
struct ProfileInput {
  std::string checkpoint;
  LoadedModel model;
  std::string source;
  TokenSplit samples;
};

// Loading and tokenising can take a while (a whole train split): a cancel is honoured between them.
void checkCancel(const JobProgress& progress) {
  if (progress && !progress(0, 1)) throw Cancelled("profile cancelled");
}

ProfileInput loadInput(const ProfileJobRequest& r, const JobProgress& progress) {
  ProfileInput in;
  in.checkpoint = r.checkpoint;
  if (in.checkpoint.empty()) {
    if (r.database.empty() || r.run <= 0) throw UserError("profile: name a checkpoint or a run");
    in.checkpoint = ExperimentStore(r.database, /*readOnly=*/true).checkpointPath(r.run, r.which == "best");
  }
  in.model = loadModel(in.checkpoint, r.dataDir);
  checkCancel(progress);
  const auto& cfg = in.model.config;
  const TextSource text = loadTextSource(cfg.data, r.dataDir, r.split, r.file);
  in.source = text.label;
  const int64_t cap = r.maxSamples >= 0 ? r.maxSamples : cfg.data.numEvalSamples;
  checkCancel(progress);
  in.samples = LmDataset::tokenize(text.lines, *in.model.tokenizer, cfg.data, cfg.model.maxSeqLength, cap,
                                   cfg.train.ignoreTokenZero);
  if (in.samples.size() == 0)
    throw UserError(text.label + ": no samples to profile (with data.sample_mode = " + cfg.data.sampleMode +
                    " the text yields none: lines too short, or fewer tokens than max_seq_length + 1)");
  checkCancel(progress);
  return in;
}

ProfileOptions optionsOf(const ProfileJobRequest& r, const LoadedModel& m) {
  ProfileOptions o;
  // Inference keeps no activations for a backward pass, so routing alone fits batches far larger
  // than training's; they amortise the per-batch routing bookkeeping (quickstart-sparse, whole
  // valid split: 16.4 s at its 16 rows, 9.1 s at 256). With the LM head the [rows x T x vocab]
  // logits would not (16,384 tokens x 50k x 4 B = 3.3 GB), and the head dominates anyway.
  const int64_t rows = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, m.config.model.maxSeqLength));
  o.batchSize = r.batchSize > 0 ? r.batchSize
                : r.measureLoss ? m.config.train.batchSize
                                : std::max(m.config.train.batchSize, rows);
  o.positionBuckets = r.positionBuckets;
  o.shards = r.shards;
  o.strategy = ReassignSpec::parse(r.strategy);
  o.measureLoss = r.measureLoss;
  return o;
}

int64_t storeAnalysis(const ProfileJobRequest& r, const std::string& kind, const std::string& label,
                      const nlohmann::json& content) {
  if (!r.store || r.run <= 0) return 0;
  if (r.database.empty() || !std::filesystem::exists(r.database))
    throw UserError("cannot store the " + kind + " of run " + std::to_string(r.run) + ": its database " +
                    (r.database.empty() ? std::string("is not named") : r.database + " is gone"));
  ExperimentStore store(r.database);
  return store.addAnalysis(r.run, kind, label, content);
}

}  // namespace

std::string profileLabel(const nlohmann::json& p) {
  return p.value("source", std::string()) + " " + p.value("strategy", std::string("none"));
}

nlohmann::json runProfileJob(const ProfileJobRequest& r, const JobProgress& progress) {
  ProfileInput in = loadInput(r, progress);
  ProfileOptions o = optionsOf(r, in.model);
  o.progress = progress;
  const RoutingProfile p = profileRouting(in.model.model, in.samples, in.source, o);
  if (p.lossMeasured && !std::isfinite(p.loss))
    throw UserError("profiling " + in.checkpoint +
                    " gave a non-finite loss: the weights are damaged or the run diverged");
  nlohmann::json out = p.toJson();
  out["checkpoint"] = in.checkpoint;
  out["step"] = in.model.step;
  if (const int64_t id = storeAnalysis(r, "routing_profile", profileLabel(out), out)) out["profile_id"] = id;
  return out;
}

nlohmann::json runReassignmentJob(const ProfileJobRequest& r, const std::vector<std::string>& strategies,
                                  const nlohmann::json& scenarioDoc, const JobProgress& progress) {
  ReassignmentStudy study;
  for (const auto& s : strategies)
    if (!s.empty() && s != "none") study.strategies.push_back(ReassignSpec::parse(s));
  study.scenarioDoc = scenarioDoc;
  ProfileJobRequest scored = r;
  scored.measureLoss = true;  // every row's perplexity is measured
  ProfileInput in = loadInput(r, progress);
  study.profile = optionsOf(scored, in.model);
  if (progress)
    study.progress = [&](int64_t row, int64_t rows, const std::string&, int64_t done, int64_t total) {
      return progress(row * total + done, rows * total);
    };
  nlohmann::json out = runReassignmentStudy(in.model.model, in.samples, in.source, study);
  out["checkpoint"] = in.checkpoint;
  out["step"] = in.model.step;
  const std::string label = in.source + " on " + out["cluster"].get<std::string>() + " (" +
                            std::to_string(out["gpus"].get<int>()) + " GPUs)";
  if (const int64_t id = storeAnalysis(r, "reassignment", label, out)) out["reassignment_id"] = id;
  return out;
}

}  // namespace moelab
