#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace moelab {

// One swept config field and where its values come from.
struct SweepParam {
  enum class Kind { Values, Range, Uniform, LogUniform };
  std::string key;  // a config field ("model.embed_dim"); the schema gives its type
  Kind kind = Kind::Values;
  nlohmann::json values = nlohmann::json::array();  // Kind::Values
  double low = 0, high = 0, step = 1;               // Range: low..high by step; (Log)Uniform: bounds
  int64_t count = 0;     // (Log)Uniform in a grid: this many evenly (log-)spaced points
  bool integer = false;  // from the schema: sampled values are rounded to integers

  bool logScale() const { return kind == Kind::LogUniform; }
  // The finite list a grid takes (Values, Range, or a counted (Log)Uniform).
  std::vector<nlohmann::json> gridValues() const;
  nlohmann::json toJson() const;
};

// Optional early stopping on the sweep metric at evaluation points.
struct EarlyStoppingSpec {
  enum class Method { None, Median, Asha };
  Method method = Method::None;
  int64_t graceSteps = 0;      // no decision before this step (also ASHA's first rung)
  int64_t minRuns = 3;         // median: compare only against at least this many other runs
  double reductionFactor = 3;  // ASHA: keep the best 1/eta at each rung (rungs grace * eta^k)
  nlohmann::json toJson() const;
};

// A sweep: a base experiment, the swept parameters, how points are chosen, the metric that ranks
// runs, how many run at once and optional early stopping (docs/SWEEPS.md has the format).
struct SweepSpec {
  std::string name;
  nlohmann::json base;   // the base experiment config document (a file named by "base" is inlined)
  std::string baseName;  // the base file's stem, or "inline"
  std::vector<SweepParam> params;
  std::string method = "grid";  // grid | random
  int64_t samples = 0;          // random: number of points
  uint64_t seed = 0;            // random: the sampler's seed
  std::string metric = "val/loss";
  std::string goal = "minimize";  // minimize | maximize
  int64_t maxConcurrent = 1;
  EarlyStoppingSpec earlyStopping;

  bool minimize() const { return goal == "minimize"; }
  // Parses and checks a spec; `baseDir` resolves a relative "base" file name. Throws ConfigError
  // naming the field at fault.
  static SweepSpec fromJson(const nlohmann::json& doc, const std::string& baseDir = ".");
  static SweepSpec load(const std::string& path);
  // Self-contained (the base inlined), so a stored sweep never depends on a file that may change.
  nlohmann::json toJson() const;
  const SweepParam* param(const std::string& key) const;
};

// One point of a sweep: its values of the swept keys, and the validated config (defaults filled)
// or the engine's reason the combination is invalid.
struct SweepPoint {
  int64_t index = 0;
  nlohmann::json values = nlohmann::json::object();  // key -> value
  nlohmann::json config;                             // null when invalid
  std::string error;
  bool valid() const { return error.empty(); }
  // "model.embed_dim=256 train.learning_rate=0.0005" (short keys when `shortKeys`)
  std::string label(bool shortKeys = true) const;
};

// Every point of the sweep: the cartesian product in parameter order (grid) or `samples` draws
// from a generator seeded by `seed` (random; the same spec always gives the same points).
std::vector<SweepPoint> expandSweep(const SweepSpec& spec);

}  // namespace moelab
