#include "config/ExperimentConfig.h"

#include "config/ConfigSchema.h"
#include "util/Errors.h"

namespace moelab {

ExperimentConfig ExperimentConfig::fromJson(const nlohmann::json& doc) {
  ExperimentConfig c;
  c.json = ConfigSchema::experiment().validate(doc);
  const auto& m = c.json["model"];
  const auto& d = c.json["data"];
  const auto& t = c.json["train"];
  c.model = {m["architecture"], m["embed_dim"],      m["num_layers"], m["num_heads"], m["num_experts"],
             m["gnn_layers"],   m["max_seq_length"], m["vocab_size"], m["dropout"]};
  auto& mc = c.model;
  mc.vocabPadMultiple = m["vocab_pad_multiple"];
  mc.numKvHeads = m["n_kv_heads"];
  mc.position = m["position"];
  mc.norm = m["norm"];
  mc.ropeTheta = m["rope_theta"];
  mc.qkNorm = m["qk_norm"];
  mc.gatedAttention = m["gated_attention"];
  mc.bias = m["bias"];
  mc.tieEmbeddings = m["tie_embeddings"];
  mc.expertIntermediateDim = m["expert_intermediate_dim"];
  mc.topK = m["top_k"];
  mc.expertParallel = m["expert_parallel"];
  mc.sharedExperts = m["shared_experts"];
  mc.moeEvery = m["moe_every"];
  mc.capacityFactor = m["capacity_factor"];
  mc.evalCapacityFactor = m["eval_capacity_factor"];
  mc.routerJitter = m["router_jitter"];
  mc.auxLossCoef = m["aux_loss_coef"];
  mc.zLossCoef = m["z_loss_coef"];
  mc.auxFreeGamma = m["aux_free_gamma"];
  mc.giniLossCoef = m["gini_loss_coef"];
  mc.varianceLossCoef = m["variance_loss_coef"];
  mc.cvLossCoef = m["cv_loss_coef"];
  mc.entropyLossCoef = m["entropy_loss_coef"];
  mc.dropPolicy = m["drop_policy"];
  mc.auxFreeBalancing = m["aux_free_balancing"];
  c.data = {d["dataset"],     d["path"],           d["wikitext_format"],   d["tokenizer"],
            d["sample_mode"], d["min_line_chars"], d["num_train_samples"], d["num_eval_samples"]};
  c.train = {t["batch_size"],   t["epochs"],        t["max_batches_per_epoch"],
             t["max_steps"],    t["eval_every"],    t["eval_batches"],
             t["warmup_steps"], t["seed"],          t["log_every"],
             t["threads"],      t["learning_rate"], t["min_learning_rate"],
             t["weight_decay"], t["grad_clip"],     c.json["loss"]["ignore_token_zero"]};
  c.train.checkpointEvery = t["checkpoint_every"];
  c.train.checkpointMinutes = t["checkpoint_minutes"];
  c.train.expertViews = t["expert_views"];
  if (c.model.embedDim % c.model.numHeads != 0)
    throw ConfigError("model.num_heads: expected a divisor of model.embed_dim (" +
                      std::to_string(c.model.embedDim) + "), got " + std::to_string(c.model.numHeads));
  if (c.model.numHeads % c.model.kvHeads() != 0)
    throw ConfigError("model.n_kv_heads: expected a divisor of model.num_heads (" +
                      std::to_string(c.model.numHeads) + "), got " + std::to_string(c.model.numKvHeads));
  if (c.model.rope() && c.model.headDim() % 2 != 0)
    throw ConfigError("model.position: rope needs an even head dimension (embed_dim / num_heads), got " +
                      std::to_string(c.model.headDim()));
  if (c.model.architecture == "sparse_moe" && c.model.topK > c.model.numExperts)
    throw ConfigError("model.top_k: expected <= model.num_experts (" + std::to_string(c.model.numExperts) +
                      "), got " + std::to_string(c.model.topK));
  if (c.model.expertParallel > 1 && c.model.architecture != "sparse_moe")
    throw ConfigError("model.expert_parallel: experts are split across ranks in sparse_moe only (got " +
                      c.model.architecture + "); use train --nproc alone for data parallel");
  if (c.model.expertParallel > 1 && c.model.numExperts % c.model.expertParallel != 0)
    throw ConfigError("model.expert_parallel: expected a divisor of model.num_experts (" +
                      std::to_string(c.model.numExperts) + "), got " +
                      std::to_string(c.model.expertParallel));
  if (c.data.dataset == "text" && c.data.path.empty())
    throw ConfigError("data.path: expected a .txt or .jsonl file when data.dataset is \"text\", got \"\"");
  if (c.train.minLearningRate > c.train.learningRate)
    throw ConfigError("train.min_learning_rate: expected <= train.learning_rate, got " +
                      std::to_string(c.train.minLearningRate));
  return c;
}

ExperimentConfig ExperimentConfig::load(const std::string& path, const std::vector<std::string>& overrides) {
  return fromJson(ConfigSchema::experiment().readDocument(path, overrides));
}

namespace {
void flattenInto(const nlohmann::json& j, const std::string& prefix, nlohmann::json& out) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it.value().is_object())
      flattenInto(it.value(), key, out);
    else
      out[key] = it.value();
  }
}
}  // namespace

nlohmann::json flattenConfig(const nlohmann::json& doc) {
  nlohmann::json out = nlohmann::json::object();
  flattenInto(doc, "", out);
  return out;
}

}  // namespace moelab
