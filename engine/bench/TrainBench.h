#pragma once
#include <map>
#include <string>
#include <vector>

#include "bench/OpProfile.h"
#include "config/ExperimentConfig.h"

namespace moelab {

struct BenchResult {
  int64_t steps = 0, batchSize = 0, seqLength = 0, threads = 0, parameters = 0;
  std::vector<double> stepSeconds;
  double medianStepSeconds = 0, tokensPerSecond = 0;
  // The step split in two: forward + backward (grows with routed tokens) and clip + optimizer
  // update (grows with the total parameter count, so with E for a sparse MoE).
  double medianForwardBackwardSeconds = 0, medianOptimizerSeconds = 0;
  double medianForwardSeconds = 0, medianBackwardSeconds = 0;  // the first part split
  double flopsPerToken = 0;                                    // forward + backward (3x forward matmul FLOPs)
  double achievedGflops = 0;                                   // flopsPerToken * tokensPerSecond
  std::map<std::string, double> matmulGflops;  // reference GEMM rates measured in the same run
  double peakMatmulGflops = 0;                 // the best of those
  double referenceGflops = 0;                  // the 2048^3 GEMM: MFU's denominator (median of samples)
  std::vector<double> referenceSamples;        // 2048^3 rates, one after each timed step, 5 at the end
  double mfu = 0;                              // achieved / reference
  OpProfile profile;                           // one extra, profiled step: GEMM time vs the rest
  double peakRssMb = 0;
  // Data parallel (`dist`): the step split per rank (rank order); the batch is the global one and
  // tokens/s counts every rank's tokens. The reference rate is the sum of the ranks' concurrent
  // 2048^3 rates (each rank has its share of the threads).
  int64_t worldSize = 1;
  struct RankSplit {
    double computeSeconds = 0, allReduceSeconds = 0, idleSeconds = 0, allToAllSeconds = 0;  // medians
  };
  std::vector<RankSplit> ranks;
  int64_t allReduceBytes = 0;  // gradient bytes each rank sends into the all-reduce per step
  double allToAllBytes = 0;    // expert parallel: bytes rank 0 sent to other ranks per step (median)
  // Expert parallel: the exchange's measured link (per-collective floor, bytes/s beyond it) and this
  // rank's kept assignments per expert of the last timed step ([MoE layer][expert]): what a simulator
  // scenario of the same traffic on the same link needs.
  double linkFloorSeconds = 0, linkBytesPerSecond = 0;
  // This rank's exchanges of the last timed step (count gathers and row all-to-alls) run again
  // back to back, each after a barrier: their time without waiting for the other ranks.
  double allToAllReplaySeconds = 0;
  std::vector<std::vector<double>> expertCounts;
};

// Times full training steps (forward, backward, clip, AdamW) of the config's model on random token
// ids of the config's shape: a speed measurement, not training. vocab: the tokenizer's size.
// opShapes: the profiled step's operators are split by input shapes.
class DistributedContext;
BenchResult benchTraining(const ExperimentConfig& cfg, int64_t vocab, int steps, int warmupSteps,
                          bool opShapes = false, DistributedContext* dist = nullptr);

}  // namespace moelab
