#include "data/LmDataset.h"

#include "data/Gpt2Tokenizer.h"
#include "data/TextCorpus.h"
#include "data/Utf8.h"
#include "data/VocabTokenizer.h"
#include "util/Errors.h"
#include "util/Sha256.h"

namespace moelab {
namespace {

// The characters Python's str.isspace() accepts (str.strip() with no argument removes them).
bool isPythonWhitespace(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

}  // namespace

std::string stripWhitespace(const std::string& line) {
  size_t begin = line.size(), end = 0;
  for (size_t i = 0; i < line.size();) {
    size_t at = i;
    if (!isPythonWhitespace(utf8::next(line, i))) {
      if (begin == line.size()) begin = at;
      end = i;
    }
  }
  return begin < end ? line.substr(begin, end - begin) : std::string();
}

int64_t codePointCount(const std::string& s) {
  int64_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) utf8::next(s, i);
  return n;
}

TokenSplit TokenSplit::select(const torch::Tensor& rows) const {
  TokenSplit s;
  s.inputs = inputs.index_select(0, rows);
  s.targets = targets.index_select(0, rows);
  s.mask = mask.index_select(0, rows);
  s.numTargets = s.targets.ne(-100).sum().item<int64_t>();
  return s;
}

TokenSplit TokenSplit::slice(int64_t begin, int64_t end) const {
  TokenSplit s;
  s.inputs = inputs.slice(0, begin, end);
  s.targets = targets.slice(0, begin, end);
  s.mask = mask.slice(0, begin, end);
  s.numTargets = s.targets.ne(-100).sum().item<int64_t>();
  return s;
}

std::shared_ptr<const Tokenizer> LmDataset::gpt2(const DataLocator& locator) {
  return std::make_shared<Gpt2Tokenizer>(Gpt2Tokenizer::locate(locator));
}

std::shared_ptr<const Tokenizer> LmDataset::tokenizerFromDescription(const nlohmann::json& d,
                                                                     const DataLocator& locator) {
  if (d.at("name") != "gpt2") return std::make_shared<VocabTokenizer>(VocabTokenizer::fromDescription(d));
  auto tok = gpt2(locator);
  auto now = tok->describe()["files"];
  for (size_t i = 0; i < now.size() && i < d["files"].size(); ++i)
    if (now[i]["sha256"] != d["files"][i]["sha256"])
      throw DataError("GPT-2 tokenizer file " + now[i]["path"].get<std::string>() +
                      " differs from the one this run was trained with (SHA-256 mismatch)");
  return tok;
}

TokenSplit LmDataset::tokenize(const std::vector<std::string>& lines, const Tokenizer& tok,
                               const DataConfig& data, int64_t seqLen, int64_t maxSamples,
                               bool ignoreTokenZero) {
  std::vector<std::vector<int64_t>> samples;
  auto full = [&] { return maxSamples > 0 && int64_t(samples.size()) >= maxSamples; };
  if (data.sampleMode == "lines") {
    for (const auto& line : lines) {
      if (full()) break;
      // The seed tests and encodes the stripped line: samples start with "The", not " The", and
      // the trailing space of a WikiText line is no target.
      std::string text = stripWhitespace(line);
      if (codePointCount(text) <= data.minLineChars) continue;
      auto ids = tok.encode(text);
      if (ids.size() < 2) continue;
      if (int64_t(ids.size()) > seqLen) ids.resize(size_t(seqLen));
      samples.push_back(std::move(ids));
    }
  } else {
    // packed: one token stream (lines joined by an end-of-text token), cut into blocks of seqLen
    // inputs whose targets run one token further.
    int64_t eos = tok.name() == "gpt2" ? tok.padId() : VocabTokenizer::kEos;
    std::vector<int64_t> stream;
    for (const auto& line : lines) {
      if (maxSamples > 0 && int64_t(stream.size()) > (maxSamples + 1) * seqLen) break;
      if (stripWhitespace(line).empty()) continue;
      auto ids = tok.encode(line);
      stream.insert(stream.end(), ids.begin(), ids.end());
      stream.push_back(eos);
    }
    for (size_t at = 0; at + size_t(seqLen) + 1 <= stream.size() && !full(); at += size_t(seqLen))
      samples.emplace_back(stream.begin() + long(at), stream.begin() + long(at + size_t(seqLen) + 1));
  }
  TokenSplit s;
  int64_t n = int64_t(samples.size());
  s.inputs = torch::full({n, seqLen}, tok.padId(), torch::kLong);
  s.targets = torch::full({n, seqLen}, -100, torch::kLong);
  s.mask = torch::zeros({n, seqLen}, torch::kBool);
  auto in = s.inputs.accessor<int64_t, 2>();
  auto tg = s.targets.accessor<int64_t, 2>();
  auto real = s.mask.accessor<bool, 2>();
  for (int64_t i = 0; i < n; ++i) {
    const auto& ids = samples[size_t(i)];
    int64_t len = std::min<int64_t>(int64_t(ids.size()), seqLen);
    for (int64_t t = 0; t < len; ++t) {
      in[i][t] = ids[size_t(t)];
      real[i][t] = true;
    }
    for (int64_t t = 0; t + 1 < int64_t(ids.size()) && t < seqLen; ++t) {
      int64_t y = ids[size_t(t + 1)];
      if (ignoreTokenZero && y == 0) continue;
      tg[i][t] = y;
      ++s.numTargets;
    }
  }
  return s;
}

LmDataset LmDataset::load(const ExperimentConfig& cfg, const DataLocator& locator) {
  LmDataset ds;
  TextCorpus corpus = TextCorpus::load(cfg.data, locator);
  if (cfg.data.tokenizer == "gpt2") {
    ds.tokenizer = gpt2(locator);
  } else {
    auto unit = cfg.data.tokenizer == "word" ? VocabTokenizer::Unit::Word : VocabTokenizer::Unit::Char;
    ds.tokenizer = std::make_shared<VocabTokenizer>(VocabTokenizer::build(unit, corpus.train));
  }
  if (cfg.model.vocabSize != 0 && cfg.model.vocabSize < ds.tokenizer->vocabSize())
    throw ConfigError("model.vocab_size: expected 0 or >= the tokenizer's " +
                      std::to_string(ds.tokenizer->vocabSize()) + ", got " +
                      std::to_string(cfg.model.vocabSize));
  const int64_t T = cfg.model.maxSeqLength;
  const bool z = cfg.train.ignoreTokenZero;
  ds.train = tokenize(corpus.train, *ds.tokenizer, cfg.data, T, cfg.data.numTrainSamples, z);
  ds.valid = tokenize(corpus.valid, *ds.tokenizer, cfg.data, T, cfg.data.numEvalSamples, z);
  ds.test = tokenize(corpus.test, *ds.tokenizer, cfg.data, T, cfg.data.numEvalSamples, z);
  if (ds.train.size() == 0 || ds.valid.size() == 0)
    throw DataError(
        "data set " + cfg.data.dataset + " yields no " + (ds.train.size() == 0 ? "training" : "validation") +
        " samples with sample_mode=" + cfg.data.sampleMode + ", max_seq_length=" + std::to_string(T) +
        ", min_line_chars=" + std::to_string(cfg.data.minLineChars));

  auto tokDesc = ds.tokenizer->describe();
  if (tokDesc.contains("symbols")) {
    tokDesc["symbols_sha256"] = Sha256::ofString(tokDesc["symbols"].dump());
    tokDesc.erase("symbols");
  }
  auto splitInfo = [](const TokenSplit& s) {
    return nlohmann::json{{"samples", s.size()}, {"tokens", s.numTargets}};
  };
  ds.provenance = {
      {"dataset", cfg.data.dataset},
      {"files", corpus.files},
      {"tokenizer", tokDesc},
      {"sample_mode", cfg.data.sampleMode},
      {"seq_length", T},
      {"splits",
       {{"train", splitInfo(ds.train)}, {"valid", splitInfo(ds.valid)}, {"test", splitInfo(ds.test)}}}};
  return ds;
}

}  // namespace moelab
