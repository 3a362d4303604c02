#pragma once
#include <memory>
#include <string>

#include "config/ExperimentConfig.h"
#include "data/Tokenizer.h"
#include "model/LanguageModel.h"

namespace moelab {

// A trained model as a checkpoint holds it, ready for evaluation or profiling.
struct LoadedModel {
  ExperimentConfig config;
  std::shared_ptr<const Tokenizer> tokenizer;  // null when loaded without one
  LanguageModel model{nullptr};
  int64_t step = 0;
};

// Reads `checkpointPath` (its digest verified) into a model in evaluation mode. withTokenizer
// false: the vocabulary size comes from the checkpoint, no tokenizer files needed. Throws
// UserError/DataError naming the file or the missing tokenizer data.
LoadedModel loadModel(const std::string& checkpointPath, const std::string& dataDir,
                      bool withTokenizer = true);

}  // namespace moelab
