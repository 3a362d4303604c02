#pragma once
#include <cstdint>
#include <string>

namespace moelab {

// The plain structs a run's observations travel in, from the Trainer to the database, the CLI's
// progress line and the desktop app. No tensors, no SQLite, no Qt.

// One value of one metric at one step ("train/loss", "val/perplexity", ...).
struct MetricPoint {
  std::string key;
  int64_t step = 0;
  double value = 0;
  double wallTime = 0;  // seconds since the Unix epoch
};

struct TrainProgress {
  int64_t step = 0, totalSteps = 0, epoch = 0;
  double loss = 0, learningRate = 0, tokensPerSecond = 0, elapsedSeconds = 0, etaSeconds = 0;
  // sparse_moe only: means over MoE layers (max for MaxVio).
  bool hasRouting = false;
  double auxLoss = 0, droppedFraction = 0, maxViolation = 0;
};

struct EvalResult {
  double loss = 0, perplexity = 0;
  int64_t tokens = 0;   // target tokens scored
  int64_t samples = 0;  // sequences scored
  int64_t batches = 0;
};

}  // namespace moelab
