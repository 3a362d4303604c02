#pragma once
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace moelab {

// Writes tensors in the safetensors format (8-byte little-endian header length, JSON header with
// dtype/shape/data_offsets, then raw little-endian data), readable by Python's safetensors or numpy.
void writeSafetensors(const std::string& path,
                      const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace moelab
