#include "data/Gpt2Tokenizer.h"

#include <climits>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/DataLocator.h"
#include "data/UnicodeTables.h"
#include "data/Utf8.h"
#include "util/Errors.h"
#include "util/Sha256.h"

namespace fs = std::filesystem;

namespace moelab {
namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError("cannot read tokenizer file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

enum class CharClass { Letter, Number, Space, Other };
CharClass classify(uint32_t cp) {
  if (unicode::isLetter(cp)) return CharClass::Letter;
  if (unicode::isNumber(cp)) return CharClass::Number;
  if (unicode::isWhitespace(cp)) return CharClass::Space;
  return CharClass::Other;
}

}  // namespace

Gpt2Tokenizer::Gpt2Tokenizer(const std::string& folder) {
  std::string vocabPath, mergesPath;
  if (fs::exists(fs::path(folder) / "encoder.json")) {
    vocabPath = (fs::path(folder) / "encoder.json").string();
    mergesPath = (fs::path(folder) / "vocab.bpe").string();
  } else if (fs::exists(fs::path(folder) / "vocab.json")) {
    vocabPath = (fs::path(folder) / "vocab.json").string();
    mergesPath = (fs::path(folder) / "merges.txt").string();
  } else {
    throw DataError("GPT-2 tokenizer files not found in " + folder +
                    " (expected encoder.json + vocab.bpe, or vocab.json + merges.txt); run "
                    "`moelab-cli data fetch gpt2-bpe`");
  }
  if (!fs::exists(mergesPath))
    throw DataError("GPT-2 merges file missing: " + mergesPath + "; run `moelab-cli data fetch gpt2-bpe`");

  // GPT-2's reversible byte -> printable code point map.
  int extra = 0;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    uint32_t cp = printable ? uint32_t(b) : uint32_t(256 + extra++);
    utf8::append(byteToUnicode_[b], cp);
    unicodeToByte_[cp] = uint8_t(b);
  }

  nlohmann::json vocab;
  try {
    vocab = nlohmann::json::parse(readFile(vocabPath));
  } catch (const nlohmann::json::exception& e) {
    throw DataError("tokenizer vocabulary " + vocabPath + " is not valid JSON: " + e.what());
  }
  idToToken_.resize(vocab.size());
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    int64_t id = it.value().get<int64_t>();
    if (id < 0 || id >= int64_t(vocab.size()))
      throw DataError("tokenizer vocabulary " + vocabPath + ": id out of range for " + it.key());
    tokenToId_[it.key()] = id;
    idToToken_[size_t(id)] = it.key();
  }
  auto eot = tokenToId_.find("<|endoftext|>");
  endOfText_ = eot != tokenToId_.end() ? eot->second : int64_t(idToToken_.size()) - 1;

  std::istringstream merges(readFile(mergesPath));
  std::string line;
  int rank = 0;
  while (std::getline(merges, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.rfind("#version", 0) == 0) continue;
    if (line.find(' ') == std::string::npos)
      throw DataError("malformed merge line " + std::to_string(rank + 1) + " in " + mergesPath);
    mergeRank_.emplace(line, rank++);
  }
  files_ = nlohmann::json::array();
  for (const auto& p : {vocabPath, mergesPath})
    files_.push_back({{"path", p}, {"sha256", Sha256::ofFile(p)}});
}

nlohmann::json Gpt2Tokenizer::describe() const {
  return {{"name", "gpt2"}, {"vocab_size", vocabSize()}, {"files", files_}};
}

std::vector<std::string> Gpt2Tokenizer::preTokenize(const std::string& text) {
  std::vector<uint32_t> cps;
  std::vector<size_t> offs;
  for (size_t i = 0; i < text.size();) {
    offs.push_back(i);
    cps.push_back(utf8::next(text, i));
  }
  offs.push_back(text.size());
  const size_t n = cps.size();
  auto cls = [&](size_t k) { return classify(cps[k]); };
  auto runOf = [&](size_t k, CharClass c) {
    while (k < n && cls(k) == c) ++k;
    return k;
  };

  std::vector<std::string> out;
  size_t i = 0;
  while (i < n) {
    size_t end = i;
    if (cps[i] == '\'' && i + 1 < n) {
      uint32_t a = cps[i + 1], b = i + 2 < n ? cps[i + 2] : 0;
      if (a == 's' || a == 't' || a == 'm' || a == 'd')
        end = i + 2;
      else if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
        end = i + 3;
    }
    if (end == i) {
      size_t start = (cps[i] == ' ' && i + 1 < n && cls(i + 1) != CharClass::Space) ? i + 1 : i;
      CharClass c = cls(start);
      if (c != CharClass::Space) {
        end = runOf(start, c);
      } else {
        size_t j = runOf(i, CharClass::Space);
        // \s+(?!\S): leave the last space for the following word; a lone one matches \s+.
        end = (j == n || j - i == 1) ? j : j - 1;
      }
    }
    out.emplace_back(text.substr(offs[i], offs[end] - offs[i]));
    i = end;
  }
  return out;
}

void Gpt2Tokenizer::bpe(const std::string& word, std::vector<int64_t>& out) const {
  {
    std::lock_guard<std::mutex> lock(cacheMutex_);
    auto hit = cache_.find(word);
    if (hit != cache_.end()) {
      out.insert(out.end(), hit->second.begin(), hit->second.end());
      return;
    }
  }
  std::vector<std::string> parts;
  for (unsigned char b : word) parts.push_back(byteToUnicode_[b]);
  while (parts.size() > 1) {
    int best = INT_MAX;
    size_t at = 0;
    for (size_t k = 0; k + 1 < parts.size(); ++k) {
      auto r = mergeRank_.find(parts[k] + ' ' + parts[k + 1]);
      if (r != mergeRank_.end() && r->second < best) {
        best = r->second;
        at = k;
      }
    }
    if (best == INT_MAX) break;
    // Merge every occurrence of the best pair, left to right, as encoder.py does.
    const std::string left = parts[at], right = parts[at + 1];
    std::vector<std::string> merged;
    for (size_t k = 0; k < parts.size();) {
      if (k + 1 < parts.size() && parts[k] == left && parts[k + 1] == right) {
        merged.push_back(left + right);
        k += 2;
      } else {
        merged.push_back(parts[k++]);
      }
    }
    parts.swap(merged);
  }
  std::vector<int64_t> ids;
  for (const auto& p : parts) {
    auto it = tokenToId_.find(p);
    if (it == tokenToId_.end()) throw DataError("GPT-2 vocabulary has no token for BPE piece '" + p + "'");
    ids.push_back(it->second);
  }
  out.insert(out.end(), ids.begin(), ids.end());
  std::lock_guard<std::mutex> lock(cacheMutex_);
  if (cache_.size() < 500000) cache_.emplace(word, std::move(ids));
}

std::vector<int64_t> Gpt2Tokenizer::encode(const std::string& text) const {
  std::vector<int64_t> ids;
  for (const auto& piece : preTokenize(text)) bpe(piece, ids);
  return ids;
}

std::string Gpt2Tokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string bytes;
  for (int64_t id : ids) {
    if (id < 0 || id >= vocabSize()) throw UserError("token id out of range: " + std::to_string(id));
    const std::string& tok = idToToken_[size_t(id)];
    for (size_t i = 0; i < tok.size();) {
      auto it = unicodeToByte_.find(utf8::next(tok, i));
      if (it != unicodeToByte_.end()) bytes += char(it->second);
    }
  }
  return bytes;
}

}  // namespace moelab

namespace moelab {

std::string Gpt2Tokenizer::locate(const DataLocator& locator) {
  return locator.find("gpt2-bpe", {"encoder.json+vocab.bpe", "vocab.json+merges.txt"}, "gpt2-bpe");
}

}  // namespace moelab
