#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

namespace moelab::cli {

// Parsed command-line words after the command name: positionals, --flags and --options with
// values (repeatable, e.g. --set). Unknown options are a UserError.
struct CliArgs {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> values;
  std::set<std::string> flags;

  static CliArgs parse(const std::vector<std::string>& words, const std::set<std::string>& flagNames,
                       const std::set<std::string>& valueNames);
  bool has(const std::string& name) const { return flags.count(name) || values.count(name); }
  std::string get(const std::string& name, const std::string& dflt = "") const;
  int64_t getInt(const std::string& name, int64_t dflt) const;
  std::vector<std::string> all(const std::string& name) const;
};

}  // namespace moelab::cli
