#pragma once
#include <cstdint>
#include <string>

namespace moelab {

struct WeightExportSummary {
  size_t tensors = 0;
  std::string checkpoint, taken;  // the file read and its stem ("best", "last")
  int64_t step = 0;
};

// A checkpoint's model weights as safetensors (layout moelab-weights-v1, docs/WEIGHTS.md), for
// `moelab-cli export-weights` and the desktop app's Export weights. Torch-free header.
WeightExportSummary exportCheckpointWeights(const std::string& checkpointPath, const std::string& outPath);

}  // namespace moelab
