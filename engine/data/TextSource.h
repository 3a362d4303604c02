#pragma once
#include <string>
#include <vector>

#include "config/ExperimentConfig.h"

namespace moelab {

// The text an evaluation or a routing profile reads: a split (valid, test or train) of the
// model's own data set, or any file (.txt lines, or the "text" of each .jsonl record).
struct TextSource {
  std::string label;  // "valid", "test", "file:NAME"
  std::vector<std::string> lines;
};

// `file` non-empty wins over `split`. Throws UserError for an unknown split, DataError (naming the
// paths tried) when the data is missing or the file holds no text.
TextSource loadTextSource(const DataConfig& data, const std::string& dataDir, const std::string& split,
                          const std::string& file);

}  // namespace moelab
