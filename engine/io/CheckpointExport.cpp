#include "io/CheckpointExport.h"

#include <filesystem>

#include "io/SafetensorsWriter.h"
#include "io/WeightExport.h"
#include "train/ModelLoader.h"

namespace moelab {

WeightExportSummary exportCheckpointWeights(const std::string& checkpointPath, const std::string& outPath) {
  LoadedModel m = loadModel(checkpointPath, "", /*withTokenizer=*/false);
  WeightExportSummary s;
  s.checkpoint = checkpointPath;
  s.taken = std::filesystem::path(checkpointPath).stem().string();
  s.step = m.step;
  auto tensors = exportedTensors(m.model);
  s.tensors = tensors.size();
  writeSafetensors(outPath, tensors, exportMetadata(m.model, m.config.json, m.step, s.taken));
  return s;
}

}  // namespace moelab
