#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/ExperimentConfig.h"
#include "data/DataLocator.h"

namespace moelab {

// Lines of text per split, plus the provenance of the files they came from.
struct TextCorpus {
  std::vector<std::string> train, valid, test;
  nlohmann::json files = nlohmann::json::array();  // [{path, sha256, bytes}]

  // WikiText-2/103 (wiki.{train,valid,test}.{tokens,raw}), Tiny Shakespeare (input.txt, split
  // 90/5/5 by line), or a user .txt/.jsonl (split 90/5/5 by line). Throws DataError.
  static TextCorpus load(const DataConfig& cfg, const DataLocator& locator);
  static std::vector<std::string> readLines(const std::string& path);
  static std::vector<std::string> readJsonlText(const std::string& path);  // "text" field of each record
};

}  // namespace moelab
