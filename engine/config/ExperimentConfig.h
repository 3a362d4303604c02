#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace moelab {

struct ModelConfig {
  std::string architecture;
  int64_t embedDim, numLayers, numHeads, numExperts, gnnLayers, maxSeqLength, vocabSize;
  double dropout;
  // Attention and block options (every architecture).
  int64_t vocabPadMultiple = 1, numKvHeads = 0;  // 0 = numHeads
  std::string position = "learned", norm = "layernorm";
  double ropeTheta = 10000.0;
  bool qkNorm = false, gatedAttention = false, bias = true, tieEmbeddings = false;
  // Sparse MoE.
  int64_t expertIntermediateDim = 0, topK = 2, sharedExperts = 0, moeEvery = 1;
  int64_t expertParallel = 1;  // ranks the experts are split across (train --nproc)
  double capacityFactor = 1.25, evalCapacityFactor = 2.0, routerJitter = 0.0, auxLossCoef = 0.01,
         zLossCoef = 1e-3, auxFreeGamma = 1e-3;
  // Soft imbalance losses (model/ImbalanceLosses.h), 0 = off.
  double giniLossCoef = 0, varianceLossCoef = 0, cvLossCoef = 0, entropyLossCoef = 0;
  std::string dropPolicy = "position";
  bool auxFreeBalancing = false;

  int64_t kvHeads() const { return numKvHeads > 0 ? numKvHeads : numHeads; }
  int64_t headDim() const { return embedDim / numHeads; }
  int64_t expertWidth() const { return expertIntermediateDim > 0 ? expertIntermediateDim : 4 * embedDim; }
  int64_t paddedVocab() const {
    return (vocabSize + vocabPadMultiple - 1) / vocabPadMultiple * vocabPadMultiple;
  }
  bool rmsNorm() const { return norm == "rmsnorm"; }
  bool rope() const { return position == "rope"; }
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
  int64_t checkpointEvery = 0;      // steps; 0 = off
  double checkpointMinutes = 10.0;  // of training since the last save; 0 = off
  bool expertViews = true;          // expert_counts / coupling artifacts
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

// Every leaf of a config document as dotted key -> value ({"train": {"seed": 1}} -> {"train.seed": 1}).
nlohmann::json flattenConfig(const nlohmann::json& doc);

}  // namespace moelab
