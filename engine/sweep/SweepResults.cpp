#include "sweep/SweepResults.h"

#include <cmath>
#include <filesystem>
#include <map>

#include "config/ExperimentConfig.h"
#include "io/CsvWriter.h"
#include "model/ModelSize.h"
#include "report/RunComparison.h"
#include "util/Errors.h"

namespace moelab {
namespace {

std::string cell(const nlohmann::json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return formatMetric(v.get<double>());
  return v.dump();
}

std::string num(double v) {
  return std::isnan(v) ? "" : formatMetric(v);
}

// "real wikitext-2; wiki.train.tokens sha256=...; ..." from a run's provenance.
std::string dataMode(const nlohmann::json& provenance) {
  if (!provenance.is_object() || !provenance.contains("dataset")) return "";
  std::string out = "real " + provenance["dataset"].get<std::string>();
  for (const auto& f : provenance.value("files", nlohmann::json::array())) {
    const std::string path = f.value("path", std::string());
    out += "; " + std::filesystem::path(path).filename().string() +
           " sha256=" + f.value("sha256", std::string());
  }
  return out;
}

const nlohmann::json& at(const nlohmann::json& config, const char* section, const char* key) {
  static const nlohmann::json null;
  if (!config.is_object() || !config.contains(section) || !config[section].contains(key)) return null;
  return config[section][key];
}

}  // namespace

const std::vector<std::string>& seedSweepColumns() {
  static const std::vector<std::string> cols = {"embed_dim",
                                                "num_layers",
                                                "num_experts",
                                                "batch_size",
                                                "learning_rate",
                                                "gnn_layers",
                                                "dropout_rate",
                                                "epochs",
                                                "max_batches_per_epoch",
                                                "dataset_name",
                                                "dataset_config_name",
                                                "num_train_samples",
                                                "num_eval_samples",
                                                "eval_every",
                                                "seed",
                                                "run_name",
                                                "total_params",
                                                "best_eval_loss",
                                                "best_eval_perplexity",
                                                "training_time_min",
                                                "data_mode",
                                                "error_message"};
  return cols;
}

SweepTable SweepTable::load(const ExperimentStore& store, int64_t sweepId) {
  SweepTable t;
  auto rec = store.sweep(sweepId);
  if (!rec) throw UserError("no sweep with id " + std::to_string(sweepId));
  t.sweep = *rec;
  t.spec = SweepSpec::fromJson(rec->spec);
  for (const auto& p : t.spec.params) t.varied.push_back(p.key);
  std::map<int64_t, RunRecord> latest;
  for (auto& r : store.sweepRuns(sweepId)) latest[r.sweepIndex] = r;
  std::vector<int64_t> ids;
  for (auto& [i, r] : latest) ids.push_back(r.id);
  const auto plans = store.latestArtifacts("plan", &ids);
  const auto latestVals = store.latestValues({"train/tokens_per_sec"}, &ids);

  const bool minimize = t.spec.minimize();
  for (const auto& p : store.sweepPoints(sweepId)) {
    SweepRow row;
    row.index = p.index;
    row.values = p.params;
    row.config = p.config;
    row.status = p.status == "invalid" ? "invalid" : p.status == "refused" ? "refused" : "pending";
    row.error = p.error;
    auto it = latest.find(p.index);
    if (it != latest.end() && p.status != "invalid") {
      const RunRecord& r = it->second;
      row.runId = r.id;
      row.runName = r.name;
      row.status = r.status;
      row.error = r.error;
      row.config = r.config;
      row.provenance = r.provenance;
      row.steps = r.step;
      double first = NAN, last = NAN;
      for (const auto& m : store.metrics(r.id, t.spec.metric)) {
        row.final = m.value;
        if (std::isfinite(m.value) &&
            (std::isnan(row.best) || (minimize ? m.value < row.best : m.value > row.best))) {
          row.best = m.value;
          row.bestStep = m.step;
        }
      }
      for (const auto& m : store.metrics(r.id, "train/loss")) {
        if (std::isnan(first)) first = m.wallTime;
        last = m.wallTime;
      }
      if (!std::isnan(first)) row.wallSeconds = last - first;
      if (auto pl = plans.find(r.id); pl != plans.end())
        row.parameters = pl->second.value("parameters", int64_t(0));
      if (auto v = latestVals.find(r.id); v != latestVals.end()) {
        if (v->second.count("train/tokens_per_sec"))
          row.tokensPerSecond = v->second.at("train/tokens_per_sec");
      }
      // train/tokens is logged per step every log_every steps: their mean times the steps taken.
      double tokenSum = 0;
      int64_t tokenRows = 0;
      for (const auto& m : store.metrics(r.id, "train/tokens")) {
        tokenSum += m.value;
        ++tokenRows;
      }
      if (tokenRows > 0) row.trainTokens = tokenSum / double(tokenRows) * double(r.step);
      try {
        ExperimentConfig cfg = ExperimentConfig::fromJson(r.config);
        ModelConfig m = cfg.model;
        if (m.vocabSize == 0 && r.provenance.is_object())
          m.vocabSize =
              r.provenance.value("tokenizer", nlohmann::json::object()).value("vocab_size", int64_t(0));
        if (m.vocabSize > 0) row.flopsPerToken = 3.0 * forwardFlopsPerToken(m, m.maxSeqLength);
      } catch (const std::exception&) {
        // A config this build no longer reads: no FLOPs estimate, the rest still shows.
      }
    }
    t.rows.push_back(std::move(row));
  }
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const double b = t.rows[i].best;
    if (std::isnan(b)) continue;
    if (t.bestRow < 0 || (minimize ? b < t.rows[size_t(t.bestRow)].best : b > t.rows[size_t(t.bestRow)].best))
      t.bestRow = int(i);
  }
  return t;
}

void SweepTable::writeCsv(std::ostream& out) const {
  CsvWriter csv(out);
  auto row = [&](const std::vector<std::string>& cells) {
    for (const auto& c : cells) csv.text(c);
    csv.endRow();
  };
  std::vector<std::string> header = seedSweepColumns();
  for (const auto& k : varied) header.push_back(k);
  for (const char* c : {"sweep_index", "run_id", "status", "best_metric", "final_metric", "best_step",
                        "steps", "tokens_per_sec", "train_tokens", "flops_per_token"})
    header.push_back(c);
  header.push_back("metric");
  row(header);
  for (const auto& r : rows) {
    const auto& c = r.config;
    const bool isLoss = spec.metric == "val/loss";
    // The seed's best_eval_loss is the validation loss; when the sweep ranks by another metric the
    // run's own val/loss is not in this table, so the cell stays empty rather than wrong.
    const double bestLoss = isLoss ? r.best : NAN;
    std::vector<std::string> line = {cell(at(c, "model", "embed_dim")),
                                     cell(at(c, "model", "num_layers")),
                                     cell(at(c, "model", "num_experts")),
                                     cell(at(c, "train", "batch_size")),
                                     cell(at(c, "train", "learning_rate")),
                                     cell(at(c, "model", "gnn_layers")),
                                     cell(at(c, "model", "dropout")),
                                     cell(at(c, "train", "epochs")),
                                     cell(at(c, "train", "max_batches_per_epoch")),
                                     cell(at(c, "data", "dataset")),
                                     cell(at(c, "data", "wikitext_format")),
                                     cell(at(c, "data", "num_train_samples")),
                                     cell(at(c, "data", "num_eval_samples")),
                                     cell(at(c, "train", "eval_every")),
                                     cell(at(c, "train", "seed")),
                                     r.runName,
                                     r.parameters > 0 ? std::to_string(r.parameters) : "",
                                     num(bestLoss),
                                     num(std::isnan(bestLoss) ? NAN : std::exp(bestLoss)),
                                     num(std::isnan(r.wallSeconds) ? NAN : r.wallSeconds / 60.0),
                                     dataMode(r.provenance),
                                     r.error};
    for (const auto& k : varied) line.push_back(cell(r.values.value(k, nlohmann::json())));
    line.push_back(std::to_string(r.index));
    line.push_back(r.runId > 0 ? std::to_string(r.runId) : "");
    line.push_back(r.status);
    line.push_back(num(r.best));
    line.push_back(num(r.final));
    line.push_back(r.bestStep >= 0 ? std::to_string(r.bestStep) : "");
    line.push_back(std::to_string(r.steps));
    line.push_back(num(r.tokensPerSecond));
    line.push_back(num(r.trainTokens));
    line.push_back(num(r.flopsPerToken));
    line.push_back(spec.metric);
    row(line);
  }
}

nlohmann::json SweepTable::toJson() const {
  auto nanNull = [](double v) { return std::isnan(v) ? nlohmann::json() : nlohmann::json(v); };
  nlohmann::json j = {
      {"id", sweep.id},
      {"name", sweep.name},
      {"status", sweep.status},
      {"created_at", sweep.createdAt},
      {"metric", spec.metric},
      {"goal", spec.goal},
      {"method", spec.method},
      {"varied", varied},
      {"spec", spec.toJson()},
      {"best_index", bestRow >= 0 ? nlohmann::json(rows[size_t(bestRow)].index) : nlohmann::json()}};
  j["points"] = nlohmann::json::array();
  for (const auto& r : rows)
    j["points"].push_back({{"index", r.index},
                           {"values", r.values},
                           {"run_id", r.runId > 0 ? nlohmann::json(r.runId) : nlohmann::json()},
                           {"run_name", r.runName},
                           {"status", r.status},
                           {"error", r.error},
                           {"best", nanNull(r.best)},
                           {"final", nanNull(r.final)},
                           {"best_step", r.bestStep},
                           {"steps", r.steps},
                           {"parameters", r.parameters},
                           {"wall_seconds", nanNull(r.wallSeconds)},
                           {"tokens_per_sec", nanNull(r.tokensPerSecond)},
                           {"train_tokens", nanNull(r.trainTokens)},
                           {"flops_per_token", nanNull(r.flopsPerToken)}});
  return j;
}

std::string SweepTable::summaryLine() const {
  std::map<std::string, int> counts;
  for (const auto& r : rows) ++counts[r.status];
  std::string s = std::to_string(rows.size()) + " points:";
  bool first = true;
  for (const auto& [k, n] : counts) {
    s += std::string(first ? " " : ", ") + std::to_string(n) + " " + k;
    first = false;
  }
  if (bestRow >= 0) {
    const auto& b = rows[size_t(bestRow)];
    s += "; best #" + std::to_string(b.index) + " (" + SweepPoint{b.index, b.values, nullptr, ""}.label() +
         ") " + spec.metric + " " + formatMetric(b.best);
  }
  return s;
}

}  // namespace moelab
