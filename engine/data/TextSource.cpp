#include "data/TextSource.h"

#include <filesystem>

#include "data/DataLocator.h"
#include "data/TextCorpus.h"
#include "util/Errors.h"

namespace fs = std::filesystem;

namespace moelab {

TextSource loadTextSource(const DataConfig& data, const std::string& dataDir, const std::string& split,
                          const std::string& file) {
  if (!file.empty()) {
    const std::string path = DataLocator(dataDir).findFile(file);
    TextSource t{"file:" + fs::path(path).filename().string(), {}};
    t.lines = fs::path(path).extension() == ".jsonl" ? TextCorpus::readJsonlText(path)
                                                     : TextCorpus::readLines(path);
    if (t.lines.empty()) throw DataError(path + " holds no text");
    return t;
  }
  if (split != "valid" && split != "test" && split != "train")
    throw UserError("split: expected valid, test or train, got \"" + split + "\"");
  TextCorpus corpus = TextCorpus::load(data, DataLocator(dataDir));
  return {split, split == "valid" ? corpus.valid : split == "test" ? corpus.test : corpus.train};
}

}  // namespace moelab
