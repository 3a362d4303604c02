#include "sweep/SweepSpec.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "config/ConfigSchema.h"
#include "config/ExperimentConfig.h"
#include "util/Errors.h"

namespace fs = std::filesystem;

namespace moelab {
namespace {

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw ConfigError("sweep " + where + ": " + what);
}

double number(const nlohmann::json& v, const std::string& where) {
  if (!v.is_number()) bad(where, "expected a number, got " + v.dump());
  return v.get<double>();
}

std::pair<double, double> bounds(const nlohmann::json& v, const std::string& where) {
  if (!v.is_array() || v.size() != 2) bad(where, "expected [low, high], got " + v.dump());
  const double lo = number(v[0], where), hi = number(v[1], where);
  if (!(lo <= hi)) bad(where, "low must not exceed high, got " + v.dump());
  return {lo, hi};
}

nlohmann::json typed(double v, bool integer) {
  if (integer) return nlohmann::json(int64_t(std::llround(v)));
  return nlohmann::json(v);
}

// A uniform double in [0, 1) from 53 random bits: the same on every platform, unlike
// std::uniform_real_distribution.
double unit(std::mt19937_64& rng) {
  return double(rng() >> 11) * (1.0 / 9007199254740992.0);
}

std::string shortValue(const nlohmann::json& v) {
  if (v.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v.get<double>());
    return buf;
  }
  return v.is_string() ? v.get<std::string>() : v.dump();
}

}  // namespace

std::vector<nlohmann::json> SweepParam::gridValues() const {
  std::vector<nlohmann::json> out;
  switch (kind) {
    case Kind::Values:
      for (const auto& v : values) out.push_back(v);
      break;
    case Kind::Range:
      // The tolerance keeps 0.1-steps from losing their last point to rounding.
      for (int64_t i = 0;; ++i) {
        const double v = low + double(i) * step;
        if (v > high + 1e-9 * std::abs(step)) break;
        out.push_back(typed(v, integer));
      }
      break;
    case Kind::Uniform:
    case Kind::LogUniform:
      for (int64_t i = 0; i < count; ++i) {
        const double t = count == 1 ? 0.0 : double(i) / double(count - 1);
        const double v = logScale() ? std::exp(std::log(low) + t * (std::log(high) - std::log(low)))
                                    : low + t * (high - low);
        out.push_back(typed(v, integer));
      }
      break;
  }
  return out;
}

nlohmann::json SweepParam::toJson() const {
  nlohmann::json j = {{"key", key}};
  switch (kind) {
    case Kind::Values:
      j["values"] = values;
      break;
    case Kind::Range:
      j["range"] = {low, high};
      j["step"] = step;
      break;
    case Kind::Uniform:
    case Kind::LogUniform:
      j[logScale() ? "log_uniform" : "uniform"] = {low, high};
      if (count > 0) j["count"] = count;
      break;
  }
  return j;
}

nlohmann::json EarlyStoppingSpec::toJson() const {
  if (method == Method::None) return {{"method", "none"}};
  nlohmann::json j = {{"method", method == Method::Median ? "median" : "asha"}, {"grace_steps", graceSteps}};
  if (method == Method::Median) j["min_runs"] = minRuns;
  if (method == Method::Asha) j["reduction_factor"] = reductionFactor;
  return j;
}

SweepSpec SweepSpec::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UserError("cannot read sweep spec " + path);
  nlohmann::json doc = nlohmann::json::parse(in, nullptr, false);
  if (doc.is_discarded()) throw ConfigError(path + ": not valid JSON");
  try {
    if (doc.is_object() && !doc.contains("name")) doc["name"] = fs::path(path).stem().string();
    return fromJson(doc, fs::path(path).parent_path().string());
  } catch (const ConfigError& e) {
    throw ConfigError(path + ": " + e.what());
  }
}

SweepSpec SweepSpec::fromJson(const nlohmann::json& doc, const std::string& baseDir) {
  if (!doc.is_object()) throw ConfigError("sweep spec: expected a JSON object");
  static const std::set<std::string> known = {"name",           "base",           "parameters",  "method",
                                              "samples",        "seed",           "metric",      "goal",
                                              "max_concurrent", "early_stopping", "description", "base_name"};
  for (const auto& [k, v] : doc.items())
    if (!known.count(k))
      bad(k,
          "unknown key (expected one of name, base, parameters, method, samples, seed, "
          "metric, goal, max_concurrent, early_stopping, description)");
  SweepSpec s;
  s.name = doc.value("name", std::string("sweep"));
  if (!doc.contains("base")) bad("base", "missing: a config file name or an experiment config object");
  const auto& base = doc["base"];
  if (base.is_string()) {
    fs::path p = base.get<std::string>();
    if (p.is_relative()) p = fs::path(baseDir.empty() ? "." : baseDir) / p;
    std::ifstream in(p);
    if (!in) bad("base", "cannot read config file " + p.string());
    s.base = nlohmann::json::parse(in, nullptr, false);
    if (s.base.is_discarded()) bad("base", p.string() + " is not valid JSON");
    s.baseName = p.stem().string();
  } else if (base.is_object()) {
    s.base = base;
    s.baseName = doc.value("base_name", std::string("inline"));
  } else {
    bad("base", "expected a config file name or an object, got " + base.dump());
  }
  try {
    ConfigSchema::experiment().validate(s.base);
  } catch (const ConfigError& e) {
    bad("base", e.what());
  }

  s.method = doc.value("method", std::string("grid"));
  if (s.method != "grid" && s.method != "random") bad("method", "expected grid or random, got " + s.method);
  if (doc.contains("samples")) {
    if (!doc["samples"].is_number_integer() || doc["samples"].get<int64_t>() < 1)
      bad("samples", "expected an integer >= 1, got " + doc["samples"].dump());
    s.samples = doc["samples"].get<int64_t>();
  }
  if (s.method == "random" && s.samples < 1) bad("samples", "random search needs samples >= 1");
  if (doc.contains("seed")) {
    if (!doc["seed"].is_number_integer() || doc["seed"].get<int64_t>() < 0)
      bad("seed", "expected an integer >= 0, got " + doc["seed"].dump());
    s.seed = doc["seed"].get<uint64_t>();
  }
  s.metric = doc.value("metric", std::string("val/loss"));
  if (s.metric.empty()) bad("metric", "must name a metric key such as val/loss");
  s.goal = doc.value("goal", std::string("minimize"));
  if (s.goal != "minimize" && s.goal != "maximize")
    bad("goal", "expected minimize or maximize, got " + s.goal);
  if (doc.contains("max_concurrent")) {
    if (!doc["max_concurrent"].is_number_integer() || doc["max_concurrent"].get<int64_t>() < 1)
      bad("max_concurrent", "expected an integer >= 1, got " + doc["max_concurrent"].dump());
    s.maxConcurrent = doc["max_concurrent"].get<int64_t>();
  }

  if (doc.contains("early_stopping")) {
    const auto& es = doc["early_stopping"];
    if (!es.is_object()) bad("early_stopping", "expected an object such as {\"method\": \"median\"}");
    const std::string m = es.value("method", std::string("none"));
    auto& e = s.earlyStopping;
    e.method = m == "median" ? EarlyStoppingSpec::Method::Median
               : m == "asha" ? EarlyStoppingSpec::Method::Asha
               : m == "none" ? EarlyStoppingSpec::Method::None
                             : (bad("early_stopping.method", "expected none, median or asha, got " + m),
                                EarlyStoppingSpec::Method::None);
    for (const auto& [k, v] : es.items())
      if (k != "method" && k != "grace_steps" && k != "min_runs" && k != "reduction_factor")
        bad("early_stopping." + k, "unknown key (expected method, grace_steps, min_runs, reduction_factor)");
    e.graceSteps = es.value("grace_steps", int64_t(0));
    e.minRuns = es.value("min_runs", int64_t(3));
    e.reductionFactor = es.value("reduction_factor", 3.0);
    if (e.graceSteps < 0) bad("early_stopping.grace_steps", "expected >= 0");
    if (e.minRuns < 1) bad("early_stopping.min_runs", "expected >= 1");
    if (e.reductionFactor < 2) bad("early_stopping.reduction_factor", "expected >= 2");
    if (e.method == EarlyStoppingSpec::Method::Asha && e.graceSteps < 1)
      bad("early_stopping.grace_steps", "ASHA needs its first rung: grace_steps >= 1");
  }

  if (!doc.contains("parameters") || !doc["parameters"].is_array() || doc["parameters"].empty())
    bad("parameters",
        "expected a non-empty list of {\"key\": ..., \"values\"|\"range\"|\"uniform\"|\"log_uniform\": ...}");
  std::set<std::string> seen;
  for (size_t i = 0; i < doc["parameters"].size(); ++i) {
    const auto& pj = doc["parameters"][i];
    const std::string where = "parameters[" + std::to_string(i) + "]";
    if (!pj.is_object() || !pj.contains("key") || !pj["key"].is_string())
      bad(where, "expected an object with a \"key\" naming a config field");
    SweepParam p;
    p.key = pj["key"].get<std::string>();
    const ConfigField* f = ConfigSchema::experiment().find(p.key);
    if (!f) bad(where, "\"" + p.key + "\" is not a config field (moelab-cli config-help lists them)");
    if (!seen.insert(p.key).second) bad(where, p.key + " is swept twice");
    p.integer = f->type == FieldType::Integer;
    const bool numeric = f->type == FieldType::Integer || f->type == FieldType::Number;
    int sources = 0;
    for (const char* k : {"values", "range", "uniform", "log_uniform"}) sources += pj.contains(k);
    if (sources != 1)
      bad(where + " (" + p.key + ")", "give exactly one of values, range, uniform, log_uniform");
    for (const auto& [k, v] : pj.items())
      if (k != "key" && k != "values" && k != "range" && k != "step" && k != "uniform" &&
          k != "log_uniform" && k != "count")
        bad(where + " (" + p.key + ")", "unknown key " + k);
    if (pj.contains("values")) {
      p.kind = SweepParam::Kind::Values;
      p.values = pj["values"];
      if (!p.values.is_array() || p.values.empty())
        bad(where + " (" + p.key + ")", "values: expected a non-empty list");
    } else {
      if (!numeric)
        bad(where + " (" + p.key + ")",
            "range and uniform bounds need a numeric field; list the values instead");
      const char* k = pj.contains("range") ? "range" : pj.contains("uniform") ? "uniform" : "log_uniform";
      std::tie(p.low, p.high) = bounds(pj[k], where + " (" + p.key + ")." + k);
      p.kind = std::string(k) == "range"     ? SweepParam::Kind::Range
               : std::string(k) == "uniform" ? SweepParam::Kind::Uniform
                                             : SweepParam::Kind::LogUniform;
      if (p.kind == SweepParam::Kind::Range) {
        p.step = pj.contains("step") ? number(pj["step"], where + ".step") : 1.0;
        if (!(p.step > 0)) bad(where + " (" + p.key + ").step", "expected > 0");
      }
      if (p.kind == SweepParam::Kind::LogUniform && !(p.low > 0))
        bad(where + " (" + p.key + ").log_uniform", "bounds must be > 0");
      if (pj.contains("count")) {
        if (!pj["count"].is_number_integer() || pj["count"].get<int64_t>() < 1)
          bad(where + " (" + p.key + ").count", "expected an integer >= 1");
        p.count = pj["count"].get<int64_t>();
      }
      if (s.method == "grid" && p.kind != SweepParam::Kind::Range && p.count < 1)
        bad(where + " (" + p.key + ")",
            "a grid needs a finite list: give the bounds a \"count\" (evenly spaced points) or use method "
            "random");
    }
    s.params.push_back(std::move(p));
  }
  return s;
}

nlohmann::json SweepSpec::toJson() const {
  nlohmann::json j = {{"name", name},
                      {"base", base},
                      {"method", method},
                      {"metric", metric},
                      {"goal", goal},
                      {"max_concurrent", maxConcurrent},
                      {"early_stopping", earlyStopping.toJson()}};
  j["base_name"] = baseName;
  if (method == "random") {
    j["samples"] = samples;
    j["seed"] = seed;
  }
  j["parameters"] = nlohmann::json::array();
  for (const auto& p : params) j["parameters"].push_back(p.toJson());
  return j;
}

const SweepParam* SweepSpec::param(const std::string& key) const {
  for (const auto& p : params)
    if (p.key == key) return &p;
  return nullptr;
}

std::string SweepPoint::label(bool shortKeys) const {
  std::string out;
  for (const auto& [k, v] : values.items()) {
    if (!out.empty()) out += " ";
    out += (shortKeys ? k.substr(k.find('.') + 1) : k) + "=" + shortValue(v);
  }
  return out;
}

std::vector<SweepPoint> expandSweep(const SweepSpec& spec) {
  // The values of each point, in parameter order.
  std::vector<std::vector<nlohmann::json>> combos;
  if (spec.method == "grid") {
    std::vector<std::vector<nlohmann::json>> lists;
    for (const auto& p : spec.params) {
      lists.push_back(p.gridValues());
      if (lists.back().empty()) throw ConfigError("sweep parameter " + p.key + " gives no values");
    }
    // Odometer order: the last parameter varies fastest.
    std::vector<size_t> at(lists.size(), 0);
    for (;;) {
      std::vector<nlohmann::json> c;
      for (size_t i = 0; i < lists.size(); ++i) c.push_back(lists[i][at[i]]);
      combos.push_back(std::move(c));
      size_t i = lists.size();
      while (i > 0 && ++at[i - 1] == lists[i - 1].size()) at[--i] = 0;
      if (i == 0) break;
    }
  } else {
    std::mt19937_64 rng(spec.seed);
    for (int64_t n = 0; n < spec.samples; ++n) {
      std::vector<nlohmann::json> c;
      for (const auto& p : spec.params) {
        const double u = unit(rng);
        if (p.kind == SweepParam::Kind::Values || p.kind == SweepParam::Kind::Range) {
          const auto list = p.gridValues();
          c.push_back(list[std::min(list.size() - 1, size_t(u * double(list.size())))]);
        } else {
          double v = p.logScale() ? std::exp(std::log(p.low) + u * (std::log(p.high) - std::log(p.low)))
                                  : p.low + u * (p.high - p.low);
          if (p.integer) v = std::clamp(double(std::llround(v)), std::ceil(p.low), std::floor(p.high));
          c.push_back(typed(v, p.integer));
        }
      }
      combos.push_back(std::move(c));
    }
  }

  std::vector<SweepPoint> points;
  for (size_t n = 0; n < combos.size(); ++n) {
    SweepPoint pt;
    pt.index = int64_t(n);
    nlohmann::json doc = spec.base;
    for (size_t i = 0; i < spec.params.size(); ++i) {
      const std::string& key = spec.params[i].key;
      pt.values[key] = combos[n][i];
      doc[key.substr(0, key.find('.'))][key.substr(key.find('.') + 1)] = combos[n][i];
    }
    try {
      pt.config = ExperimentConfig::fromJson(doc).json;
    } catch (const ConfigError& e) {
      pt.error = e.what();
    }
    points.push_back(std::move(pt));
  }
  return points;
}

}  // namespace moelab
