#include "eval/Lambada.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "data/TextCorpus.h"
#include "util/Errors.h"

namespace moelab {
namespace {
bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
}  // namespace

LambadaItem splitLastWord(const std::string& text) {
  size_t end = text.size();
  while (end > 0 && isSpace(text[end - 1])) --end;
  size_t begin = end;
  while (begin > 0 && !isSpace(text[begin - 1])) --begin;
  if (begin == end) throw UserError("the passage has no last word");
  size_t ctxEnd = begin;
  while (ctxEnd > 0 && isSpace(text[ctxEnd - 1])) --ctxEnd;
  return {text.substr(0, ctxEnd), text.substr(begin, end - begin)};
}

std::vector<LambadaItem> readLambada(const std::string& path) {
  std::vector<LambadaItem> items;
  const auto texts = TextCorpus::readJsonlText(path);  // DataError with file:line on bad records
  for (size_t i = 0; i < texts.size(); ++i) {
    try {
      items.push_back(splitLastWord(texts[i]));
    } catch (const UserError& e) {
      throw DataError(path + ": record " + std::to_string(i + 1) + ": " + e.what());
    }
  }
  if (items.empty()) throw DataError(path + ": no LAMBADA passages in the file");
  return items;
}

LambadaResult evaluateLambada(LanguageModel& model, const Tokenizer& tokenizer,
                              const std::vector<LambadaItem>& items, int64_t batchSize,
                              const std::function<bool(int64_t, int64_t)>& progress) {
  if (batchSize < 1) throw UserError("LAMBADA: batch size must be at least 1");
  const int64_t maxLen = model->cfg.maxSeqLength;
  struct Encoded {
    std::vector<int64_t> context, target;
  };
  LambadaResult r;
  std::vector<Encoded> enc(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    enc[i].context = tokenizer.encode(items[i].context);
    enc[i].target = tokenizer.encode(" " + items[i].target);
    if (enc[i].target.empty())
      throw UserError("LAMBADA: passage " + std::to_string(i + 1) + "'s last word encodes to no tokens");
    if (int64_t(enc[i].target.size()) >= maxLen)
      throw UserError("LAMBADA: passage " + std::to_string(i + 1) +
                      "'s last word is longer than max_seq_length");
    // inputs = context + target minus its last token; keep the most recent context that fits.
    const int64_t room = maxLen + 1 - int64_t(enc[i].target.size());
    if (int64_t(enc[i].context.size()) > room) {
      enc[i].context.erase(enc[i].context.begin(), enc[i].context.end() - room);
      ++r.truncated;
    }
    if (enc[i].context.empty())
      throw UserError("LAMBADA: passage " + std::to_string(i + 1) + " has no context");
  }
  // Similar lengths together: less padding per batch.
  std::vector<size_t> order(items.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return enc[a].context.size() + enc[a].target.size() < enc[b].context.size() + enc[b].target.size();
  });

  torch::NoGradGuard noGrad;
  const bool wasTraining = model->is_training();
  model->eval();
  double nllSum = 0;  // over every target token of every passage
  for (size_t b0 = 0; b0 < order.size(); b0 += size_t(batchSize)) {
    const size_t b1 = std::min(order.size(), b0 + size_t(batchSize));
    int64_t T = 0;
    for (size_t i = b0; i < b1; ++i)
      T = std::max<int64_t>(T, int64_t(enc[order[i]].context.size() + enc[order[i]].target.size()) - 1);
    const int64_t B = int64_t(b1 - b0);
    auto inputs = torch::zeros({B, T}, torch::kLong);
    auto mask = torch::zeros({B, T}, torch::kBool);
    for (int64_t b = 0; b < B; ++b) {
      const auto& e = enc[order[b0 + size_t(b)]];
      std::vector<int64_t> all = e.context;
      all.insert(all.end(), e.target.begin(), e.target.end() - 1);
      for (size_t t = 0; t < all.size(); ++t) {
        inputs[b][int64_t(t)] = all[t];
        mask[b][int64_t(t)] = true;
      }
    }
    auto logp = torch::log_softmax(model->forward(inputs, mask).to(torch::kFloat), -1);
    auto best = logp.argmax(-1);
    for (int64_t b = 0; b < B; ++b) {
      const auto& e = enc[order[b0 + size_t(b)]];
      const int64_t first = int64_t(e.context.size()) - 1;  // position predicting the target's first token
      const int64_t n = int64_t(e.target.size());
      auto ids = torch::tensor(e.target, torch::kLong);
      auto lp = logp[b].narrow(0, first, n).gather(1, ids.unsqueeze(1)).squeeze(1);
      const double nll = -lp.sum().item<double>();
      nllSum += nll;
      r.targetTokens += n;
      if (best[b].narrow(0, first, n).equal(ids)) ++r.correct;
    }
    r.passages += B;
    if (progress && !progress(r.passages, int64_t(items.size()))) {
      model->train(wasTraining);
      throw Cancelled("LAMBADA evaluation cancelled");
    }
  }
  model->train(wasTraining);
  r.accuracy = double(r.correct) / double(r.passages);
  r.perplexity = std::exp(nllSum / double(r.passages));  // per word: a word's NLL sums its tokens
  r.tokenLoss = nllSum / double(r.targetTokens);
  return r;
}

}  // namespace moelab
