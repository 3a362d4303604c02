#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "config/ExperimentConfig.h"
#include "data/DataLocator.h"
#include "data/Tokenizer.h"

namespace moelab {

// One split as fixed-length samples. targets[i,t] is the token after inputs[i,t], or -100 where
// there is none (padding, end of sample, or loss.ignore_token_zero).
struct TokenSplit {
  torch::Tensor inputs;    // [N, T] int64
  torch::Tensor targets;   // [N, T] int64
  torch::Tensor mask;      // [N, T] bool: true where inputs holds a real token, false at padding
  int64_t numTargets = 0;  // unmasked targets
  int64_t size() const { return inputs.defined() ? inputs.size(0) : 0; }
  // Rows `rows` ([K] int64) of every tensor.
  TokenSplit select(const torch::Tensor& rows) const;
  TokenSplit slice(int64_t begin, int64_t end) const;
};

// Python's str.strip(): ASCII and Unicode whitespace off both ends (what the seed encoded).
std::string stripWhitespace(const std::string& line);
// Length in code points, as Python's len() counts (the seed's "> 30 characters" test).
int64_t codePointCount(const std::string& s);

// Tokenizer + the three splits + provenance, built from an experiment's data section.
struct LmDataset {
  std::shared_ptr<const Tokenizer> tokenizer;
  TokenSplit train, valid, test;
  nlohmann::json provenance;

  // Throws DataError (with every path tried) when files are missing; never substitutes data.
  static LmDataset load(const ExperimentConfig& cfg, const DataLocator& locator);
  // Rebuilds the tokenizer recorded in a checkpoint (GPT-2 files are located again and checked).
  static std::shared_ptr<const Tokenizer> tokenizerFromDescription(const nlohmann::json& d,
                                                                   const DataLocator& locator);
  static std::shared_ptr<const Tokenizer> gpt2(const DataLocator& locator);

  static TokenSplit tokenize(const std::vector<std::string>& lines, const Tokenizer& tok,
                             const DataConfig& data, int64_t seqLen, int64_t maxSamples,
                             bool ignoreTokenZero);
};

}  // namespace moelab
