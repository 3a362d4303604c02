#include "data/TextCorpus.h"

#include <filesystem>
#include <fstream>

#include "util/Errors.h"
#include "util/Sha256.h"

namespace fs = std::filesystem;

namespace moelab {
namespace {

void recordFile(TextCorpus& c, const std::string& path) {
  c.files.push_back({{"path", fs::absolute(path).string()},
                     {"sha256", Sha256::ofFile(path)},
                     {"bytes", int64_t(fs::file_size(path))}});
}

void splitByLine(TextCorpus& c, std::vector<std::string> lines) {
  // 90/5/5 in file order, so validation text never precedes training text.
  size_t n = lines.size(), nTrain = n * 90 / 100, nValid = n * 5 / 100;
  c.train.assign(lines.begin(), lines.begin() + long(nTrain));
  c.valid.assign(lines.begin() + long(nTrain), lines.begin() + long(nTrain + nValid));
  c.test.assign(lines.begin() + long(nTrain + nValid), lines.end());
}

}  // namespace

std::vector<std::string> TextCorpus::readLines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError("cannot read data file " + path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
  }
  return lines;
}

std::vector<std::string> TextCorpus::readJsonlText(const std::string& path) {
  std::vector<std::string> out;
  size_t lineNo = 0;
  for (const auto& line : readLines(path)) {
    ++lineNo;
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    nlohmann::json rec;
    try {
      rec = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw DataError(path + ":" + std::to_string(lineNo) + ": not valid JSON (" + e.what() + ")");
    }
    if (!rec.is_object() || !rec.contains("text") || !rec["text"].is_string())
      throw DataError(path + ":" + std::to_string(lineNo) +
                      ": expected an object with a string \"text\" field");
    out.push_back(rec["text"].get<std::string>());
  }
  return out;
}

TextCorpus TextCorpus::load(const DataConfig& cfg, const DataLocator& locator) {
  TextCorpus c;
  if (cfg.dataset == "wikitext-2" || cfg.dataset == "wikitext-103") {
    std::string ext = cfg.wikitextFormat == "raw" ? ".raw" : ".tokens";
    std::string files = "wiki.train" + ext + "+wiki.valid" + ext + "+wiki.test" + ext;
    std::string dir = locator.find(cfg.dataset, {files}, cfg.dataset);
    for (auto [split, dst] : {std::pair{"train", &c.train}, {"valid", &c.valid}, {"test", &c.test}}) {
      std::string p = dir + "/wiki." + split + ext;
      *dst = readLines(p);
      recordFile(c, p);
    }
  } else if (cfg.dataset == "tinyshakespeare") {
    std::string dir = locator.find("tinyshakespeare", {"input.txt"}, "tinyshakespeare");
    recordFile(c, dir + "/input.txt");
    splitByLine(c, readLines(dir + "/input.txt"));
  } else if (cfg.dataset == "text") {
    std::string p = locator.findFile(cfg.path);
    recordFile(c, p);
    bool jsonl = fs::path(p).extension() == ".jsonl";
    splitByLine(c, jsonl ? readJsonlText(p) : readLines(p));
  } else {
    throw DataError("data.dataset: unknown data set " + cfg.dataset);
  }
  if (c.train.empty() || c.valid.empty())
    throw DataError("data set " + cfg.dataset + " has an empty train or validation split");
  return c;
}

}  // namespace moelab
