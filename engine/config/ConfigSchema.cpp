#include "config/ConfigSchema.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "util/Errors.h"

namespace moelab {
namespace {

std::string fmtNumber(double v) {
  std::ostringstream ss;
  ss << v;
  return ss.str();
}

std::string describeFound(const nlohmann::json& v) {
  std::string kind = v.is_string()           ? "string"
                     : v.is_boolean()        ? "boolean"
                     : v.is_number_integer() ? "integer"
                     : v.is_number()         ? "number"
                     : v.is_object()         ? "object"
                     : v.is_array()          ? "array"
                                             : "null";
  if (v.is_number_integer() || v.is_number_float()) return v.dump();
  if (v.is_object() || v.is_array()) return kind;
  return v.dump() + " (" + kind + ")";
}

size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string ConfigField::expectation() const {
  std::string base = type == FieldType::Integer   ? "integer"
                     : type == FieldType::Number  ? "number"
                     : type == FieldType::Boolean ? "boolean"
                     : type == FieldType::Array   ? "array"
                                                  : "string";
  if (!choices.empty()) {
    std::string s = "one of ";
    for (size_t i = 0; i < choices.size(); ++i) s += (i ? "|" : "") + choices[i];
    return s;
  }
  if (min && max)
    return base + " in " + (minExclusive ? "(" : "[") + fmtNumber(*min) + ", " + fmtNumber(*max) + "]";
  if (min) return base + (minExclusive ? " > " : " >= ") + fmtNumber(*min);
  if (max) return base + " <= " + fmtNumber(*max);
  return base;
}

ConfigSchema::ConfigSchema(std::vector<ConfigField> fields) : fields_(std::move(fields)) {}

const ConfigField* ConfigSchema::find(const std::string& path) const {
  for (const auto& f : fields_)
    if (f.path == path) return &f;
  return nullptr;
}

std::vector<std::string> ConfigSchema::sections() const {
  std::vector<std::string> out;
  for (const auto& f : fields_)
    if (std::find(out.begin(), out.end(), f.section()) == out.end()) out.push_back(f.section());
  return out;
}

nlohmann::json ConfigSchema::defaults() const {
  nlohmann::json doc = nlohmann::json::object();
  for (const auto& f : fields_) doc[f.section()][f.key()] = f.defaultValue;
  return doc;
}

void ConfigSchema::checkValue(const ConfigField& f, const nlohmann::json& v) const {
  auto fail = [&] {
    throw ConfigError(f.path + ": expected " + f.expectation() + ", got " + describeFound(v));
  };
  switch (f.type) {
    case FieldType::Integer:
      if (!v.is_number_integer()) fail();
      break;
    case FieldType::Number:
      if (!v.is_number() || !std::isfinite(v.get<double>())) fail();
      break;
    case FieldType::Boolean:
      if (!v.is_boolean()) fail();
      break;
    case FieldType::Array:
      if (!v.is_array()) fail();
      break;
    case FieldType::String:
      if (!v.is_string()) fail();
      if (!f.choices.empty() &&
          std::find(f.choices.begin(), f.choices.end(), v.get<std::string>()) == f.choices.end())
        fail();
      break;
  }
  if (v.is_number()) {
    double x = v.get<double>();
    if (f.min && (f.minExclusive ? x <= *f.min : x < *f.min)) fail();
    if (f.max && x > *f.max) fail();
  }
}

nlohmann::json ConfigSchema::validate(const nlohmann::json& doc) const {
  if (!doc.is_object())
    throw ConfigError("config: expected a JSON object with sections, got " + describeFound(doc));
  auto secs = sections();
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (std::find(secs.begin(), secs.end(), it.key()) == secs.end()) {
      std::string all;
      for (auto& s : secs) all += (all.empty() ? "" : ", ") + s;
      throw ConfigError(it.key() + ": unknown section (sections are " + all + ")");
    }
    if (!it.value().is_object())
      throw ConfigError(it.key() + ": expected an object, got " + describeFound(it.value()));
    for (auto kv = it.value().begin(); kv != it.value().end(); ++kv) {
      std::string path = it.key() + "." + kv.key();
      const ConfigField* f = find(path);
      if (!f) {
        std::string best;
        size_t bestD = 4;
        for (const auto& c : fields_) {
          size_t d = editDistance(path, c.path);
          if (d < bestD) bestD = d, best = c.path;
        }
        throw ConfigError(path + ": unknown key" + (best.empty() ? "" : " (did you mean " + best + "?)"));
      }
      checkValue(*f, kv.value());
    }
  }
  nlohmann::json full = defaults();
  for (auto it = doc.begin(); it != doc.end(); ++it)
    for (auto kv = it.value().begin(); kv != it.value().end(); ++kv) full[it.key()][kv.key()] = kv.value();
  return full;
}

void ConfigSchema::applyOverride(nlohmann::json& doc, const std::string& assignment) const {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("--set " + assignment + ": expected section.key=value");
  std::string path = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  const ConfigField* f = find(path);
  if (!f) {
    nlohmann::json probe = {{path.substr(0, path.find('.')), {{path.substr(path.find('.') + 1), nullptr}}}};
    if (path.find('.') == std::string::npos) throw ConfigError(path + ": expected section.key");
    validate(probe);  // throws the unknown-section/key message with a suggestion
  }
  nlohmann::json value;
  auto bad = [&] { throw ConfigError(path + ": expected " + f->expectation() + ", got \"" + text + "\""); };
  try {
    size_t used = 0;
    switch (f->type) {
      case FieldType::Integer:
        value = std::stoll(text, &used);
        if (used != text.size()) bad();
        break;
      case FieldType::Number: {
        const double d = std::stod(text, &used);
        if (used != text.size()) bad();
        // stod reads "nan" and "inf", which JSON cannot hold (they would become null).
        if (!std::isfinite(d))
          throw ConfigError(path + ": expected a finite number (" + f->expectation() + "), got \"" + text +
                            "\"");
        value = d;
        break;
      }
      case FieldType::Boolean:
        if (text == "true" || text == "1")
          value = true;
        else if (text == "false" || text == "0")
          value = false;
        else
          bad();
        break;
      case FieldType::String:
        value = text;
        break;
      case FieldType::Array:
        value = nlohmann::json::parse(text);
        break;
    }
  } catch (const nlohmann::json::exception&) {
    bad();
  } catch (const std::logic_error&) {  // stoll/stod: invalid_argument, out_of_range
    bad();
  }
  checkValue(*f, value);
  doc[f->section()][f->key()] = value;
}

nlohmann::json ConfigSchema::readDocument(const std::string& path,
                                          const std::vector<std::string>& overrides) const {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot read file");
  std::stringstream ss;
  ss << in.rdbuf();
  if (std::filesystem::is_directory(path)) throw ConfigError(path + ": is a folder, not a JSON file");
  nlohmann::json doc;
  // JSON allows duplicate keys and nlohmann keeps the last one; a config that sets a key twice is
  // almost always a mistake whose first value the user expects, so it is refused.
  struct Level {
    std::set<std::string> keys;
    std::string current;
  };
  std::vector<Level> levels;
  std::string duplicate;
  auto noDuplicates = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (event == E::object_start) levels.emplace_back();
    if (event == E::object_end && !levels.empty()) levels.pop_back();
    if (event == E::key && !levels.empty()) {
      auto key = parsed.get<std::string>();
      if (!levels.back().keys.insert(key).second && duplicate.empty()) {
        for (size_t i = 0; i + 1 < levels.size(); ++i) duplicate += levels[i].current + ".";
        duplicate += key;
      }
      levels.back().current = key;
    }
    return true;
  };
  try {
    doc = nlohmann::json::parse(ss.str(), noDuplicates);
  } catch (const nlohmann::json::parse_error& e) {
    throw ConfigError(path + ": not valid JSON (" + e.what() + ")");
  }
  if (!duplicate.empty()) throw ConfigError(path + ": " + duplicate + " is given more than once; keep one");
  try {
    validate(doc);
  } catch (const ConfigError& e) {
    throw ConfigError(path + ": " + e.what());
  }
  for (const auto& o : overrides) applyOverride(doc, o);
  return doc;
}

std::string ConfigSchema::helpText() const {
  std::ostringstream ss;
  std::string current;
  for (const auto& f : fields_) {
    if (f.section() != current) {
      current = f.section();
      ss << "\n[" << current << "]\n";
    }
    std::string head = "  " + f.path;
    ss << head << std::string(head.size() < 34 ? 34 - head.size() : 1, ' ') << f.expectation() << ", default "
       << f.defaultValue.dump() << (f.appliesTo != "all" ? " (" + f.appliesTo + ")" : "") << "\n      "
       << f.help << "\n";
  }
  return ss.str();
}

}  // namespace moelab
