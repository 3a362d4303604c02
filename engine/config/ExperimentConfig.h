#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace moelab {

struct ModelConfig {
  std::string architecture;
  int64_t embedDim, numLayers, numHeads, numExperts, gnnLayers, maxSeqLength, vocabSize;
  double dropout;
};

struct DataConfig {
  std::string dataset, path, wikitextFormat, tokenizer, sampleMode;
  int64_t minLineChars, numTrainSamples, numEvalSamples;
};

struct TrainConfig {
  int64_t batchSize, epochs, maxBatchesPerEpoch, maxSteps, evalEvery, evalBatches, warmupSteps, seed,
      logEvery, threads;
  double learningRate, minLearningRate, weightDecay, gradClip;
  bool ignoreTokenZero;
};

// A validated experiment: typed sections plus the full JSON (defaults filled) it came from.
struct ExperimentConfig {
  ModelConfig model;
  DataConfig data;
  TrainConfig train;
  nlohmann::json json;

  // Validates against ConfigSchema::experiment() and cross-field rules. Throws ConfigError.
  static ExperimentConfig fromJson(const nlohmann::json& doc);
  // Reads a file, applies `--set` overrides in order, validates. Throws ConfigError.
  static ExperimentConfig load(const std::string& path, const std::vector<std::string>& overrides = {});
};

}  // namespace moelab
