#include "train/ModelLoader.h"

#include "data/DataLocator.h"
#include "data/LmDataset.h"
#include "data/VocabTokenizer.h"
#include "train/Checkpoint.h"
#include "train/Trainer.h"

namespace moelab {

LoadedModel loadModel(const std::string& path, const std::string& dataDir, bool withTokenizer) {
  CheckpointState s = readCheckpointState(path);
  LoadedModel m;
  m.config = ExperimentConfig::fromJson(s.config);
  int64_t vocab = s.vocabSize;
  if (withTokenizer) {
    m.tokenizer = LmDataset::tokenizerFromDescription(s.tokenizer, DataLocator(dataDir));
    vocab = m.tokenizer->vocabSize();
  } else if (vocab == 0) {
    // Checkpoints from before the vocabulary size was recorded: GPT-2's is fixed, word and char
    // tokenizers carry their symbols in the description.
    vocab = s.tokenizer.value("name", "") == "gpt2"
                ? 50257
                : VocabTokenizer::fromDescription(s.tokenizer).vocabSize();
  }
  m.model = LanguageModel(resolveModelConfig(m.config, vocab));
  loadCheckpoint(path, m.model, nullptr, false);
  m.model->eval();
  m.step = s.step;
  return m;
}

}  // namespace moelab
