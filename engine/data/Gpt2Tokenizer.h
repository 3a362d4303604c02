#pragma once
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "data/Tokenizer.h"

namespace moelab {

class DataLocator;

// GPT-2 byte-level BPE, id-for-id identical to OpenAI's encoder.py. Reads encoder.json + vocab.bpe
// (OpenAI layout) or vocab.json + merges.txt (Hugging Face layout) from one folder.
// "<|endoftext|>" written in text is encoded as ordinary text, as encoder.py does.
class Gpt2Tokenizer : public Tokenizer {
 public:
  explicit Gpt2Tokenizer(const std::string& folder);  // throws DataError naming missing files
  // The gpt2-bpe folder under the data locations (throws DataError saying how to fetch it).
  static std::string locate(const DataLocator& locator);

  std::vector<int64_t> encode(const std::string& text) const override;
  std::string decode(const std::vector<int64_t>& ids) const override;
  int64_t vocabSize() const override { return int64_t(idToToken_.size()); }
  int64_t padId() const override { return endOfText_; }
  std::string name() const override { return "gpt2"; }
  nlohmann::json describe() const override;

  // GPT-2's pre-tokenizer: the regex 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|
  // \s+(?!\S)|\s+ written out by hand (no regex engine with Unicode classes is available).
  static std::vector<std::string> preTokenize(const std::string& text);

 private:
  void bpe(const std::string& word, std::vector<int64_t>& out) const;

  std::unordered_map<std::string, int64_t> tokenToId_;
  std::vector<std::string> idToToken_;
  std::unordered_map<std::string, int> mergeRank_;  // key: left + ' ' + right
  std::string byteToUnicode_[256];
  std::unordered_map<uint32_t, uint8_t> unicodeToByte_;
  int64_t endOfText_ = -1;
  nlohmann::json files_;
  mutable std::mutex cacheMutex_;
  mutable std::unordered_map<std::string, std::vector<int64_t>> cache_;
};

}  // namespace moelab
