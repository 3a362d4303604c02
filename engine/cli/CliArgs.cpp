#include "cli/CliArgs.h"

#include "util/Errors.h"

namespace moelab::cli {

CliArgs CliArgs::parse(const std::vector<std::string>& words, const std::set<std::string>& flagNames,
                       const std::set<std::string>& valueNames) {
  CliArgs a;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.rfind("--", 0) != 0 || w == "-") {
      a.positional.push_back(w);
      continue;
    }
    std::string name = w.substr(2), value;
    bool inlineValue = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inlineValue = true;
    }
    if (flagNames.count(name)) {
      a.flags.insert(name);
    } else if (valueNames.count(name)) {
      if (!inlineValue) {
        if (i + 1 >= words.size()) throw UserError("--" + name + " needs a value");
        value = words[++i];
      }
      a.values[name].push_back(value);
    } else {
      throw UserError("unknown option --" + name);
    }
  }
  return a;
}

std::string CliArgs::get(const std::string& name, const std::string& dflt) const {
  auto it = values.find(name);
  return it == values.end() ? dflt : it->second.back();
}

int64_t CliArgs::getInt(const std::string& name, int64_t dflt) const {
  auto it = values.find(name);
  if (it == values.end()) return dflt;
  try {
    size_t used = 0;
    int64_t v = std::stoll(it->second.back(), &used);
    if (used == it->second.back().size()) return v;
  } catch (const std::logic_error&) {
  }
  throw UserError("--" + name + ": expected an integer, got \"" + it->second.back() + "\"");
}

std::vector<std::string> CliArgs::all(const std::string& name) const {
  auto it = values.find(name);
  return it == values.end() ? std::vector<std::string>{} : it->second;
}

}  // namespace moelab::cli
