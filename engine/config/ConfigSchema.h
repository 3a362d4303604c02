#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace moelab {

enum class FieldType { Integer, Number, Boolean, String, Array };

// One hyperparameter: the single source of truth for JSON parsing, `--set`, CLI help and the GUI form.
struct ConfigField {
  std::string path;  // "section.key"
  FieldType type;
  nlohmann::json defaultValue;
  std::optional<double> min, max;
  bool minExclusive = false;
  std::vector<std::string> choices;  // allowed values of a String field; empty = free text
  std::string help;
  std::string appliesTo = "all";  // architecture(s) that read it

  std::string section() const { return path.substr(0, path.find('.')); }
  std::string key() const { return path.substr(path.find('.') + 1); }
  std::string expectation() const;  // "integer >= 1", "one of gnn_moe|dense", ...
};

class ConfigSchema {
 public:
  explicit ConfigSchema(std::vector<ConfigField> fields);
  static const ConfigSchema& experiment();

  const std::vector<ConfigField>& fields() const { return fields_; }
  const ConfigField* find(const std::string& path) const;
  std::vector<std::string> sections() const;
  nlohmann::json defaults() const;

  // Checks every key, type and range; returns the document with defaults filled in.
  // Throws ConfigError naming the JSON path, what was expected and what was found.
  nlohmann::json validate(const nlohmann::json& doc) const;
  // Applies "section.key=value", parsing value by the field's type. Throws ConfigError.
  void applyOverride(nlohmann::json& doc, const std::string& assignment) const;
  std::string helpText() const;
  // Reads a JSON file, validates it (errors prefixed with the file name, so they name the file's
  // own mistake before any override's), then applies `--set` overrides in order. Throws ConfigError.
  nlohmann::json readDocument(const std::string& path, const std::vector<std::string>& overrides) const;

 private:
  void checkValue(const ConfigField& f, const nlohmann::json& v) const;
  std::vector<ConfigField> fields_;
};

}  // namespace moelab
