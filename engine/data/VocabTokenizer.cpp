#include "data/VocabTokenizer.h"

#include <algorithm>
#include <map>

#include "data/Utf8.h"
#include "util/Errors.h"

namespace moelab {

VocabTokenizer::VocabTokenizer(Unit unit, std::vector<std::string> symbols)
    : unit_(unit), symbols_(std::move(symbols)) {
  for (size_t i = 0; i < symbols_.size(); ++i) ids_.emplace(symbols_[i], int64_t(i));
}

std::vector<std::string> VocabTokenizer::split(const std::string& text) const {
  std::vector<std::string> out;
  if (unit_ == Unit::Char) {
    for (size_t i = 0; i < text.size();) {
      std::string s;
      utf8::append(s, utf8::next(text, i));
      out.push_back(std::move(s));
    }
    return out;
  }
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t j = i;
    while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    if (j > i) out.emplace_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

VocabTokenizer VocabTokenizer::build(Unit unit, const std::vector<std::string>& trainTexts) {
  VocabTokenizer splitter(unit, {});
  std::unordered_map<std::string, int64_t> counts;
  for (const auto& t : trainTexts)
    for (auto& s : splitter.split(t)) ++counts[s];
  std::vector<std::pair<std::string, int64_t>> sorted(counts.begin(), counts.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  std::vector<std::string> symbols{"<pad>", "<unk>", "<eos>"};
  for (auto& [s, n] : sorted)
    if (s != "<pad>" && s != "<unk>" && s != "<eos>") symbols.push_back(s);
  return VocabTokenizer(unit, std::move(symbols));
}

VocabTokenizer VocabTokenizer::fromDescription(const nlohmann::json& d) {
  std::string n = d.at("name").get<std::string>();
  if (n != "word" && n != "char") throw UserError("not a vocabulary tokenizer: " + n);
  return VocabTokenizer(n == "word" ? Unit::Word : Unit::Char,
                        d.at("symbols").get<std::vector<std::string>>());
}

nlohmann::json VocabTokenizer::describe() const {
  return {{"name", name()}, {"vocab_size", vocabSize()}, {"symbols", symbols_}};
}

std::vector<int64_t> VocabTokenizer::encode(const std::string& text) const {
  std::vector<int64_t> ids;
  for (const auto& s : split(text)) {
    auto it = ids_.find(s);
    ids.push_back(it == ids_.end() ? kUnk : it->second);
  }
  return ids;
}

std::string VocabTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  for (int64_t id : ids) {
    if (id < 0 || id >= vocabSize()) throw UserError("token id out of range: " + std::to_string(id));
    if (unit_ == Unit::Word && !out.empty()) out += ' ';
    out += symbols_[size_t(id)];
  }
  return out;
}

}  // namespace moelab
