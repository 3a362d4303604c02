#pragma once
#include <string>
#include <unordered_map>
#include <vector>

#include "data/Tokenizer.h"

namespace moelab {

// Word-level (whitespace-separated words) or char-level (Unicode code points) tokenizer whose
// vocabulary is built from training text: ids 0 <pad>, 1 <unk>, 2 <eos>, then symbols by
// descending frequency (ties alphabetical) so the same text always yields the same ids.
class VocabTokenizer : public Tokenizer {
 public:
  enum class Unit { Word, Char };

  static VocabTokenizer build(Unit unit, const std::vector<std::string>& trainTexts);
  static VocabTokenizer fromDescription(const nlohmann::json& d);  // inverse of describe()

  std::vector<int64_t> encode(const std::string& text) const override;
  std::string decode(const std::vector<int64_t>& ids) const override;
  int64_t vocabSize() const override { return int64_t(symbols_.size()); }
  int64_t padId() const override { return 0; }
  std::string name() const override { return unit_ == Unit::Word ? "word" : "char"; }
  nlohmann::json describe() const override;

  static constexpr int64_t kUnk = 1;
  static constexpr int64_t kEos = 2;

 private:
  VocabTokenizer(Unit unit, std::vector<std::string> symbols);
  std::vector<std::string> split(const std::string& text) const;

  Unit unit_;
  std::vector<std::string> symbols_;
  std::unordered_map<std::string, int64_t> ids_;
};

}  // namespace moelab
