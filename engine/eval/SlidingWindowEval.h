#pragma once
#include <functional>
#include <string>
#include <vector>

#include "data/Tokenizer.h"
#include "model/LanguageModel.h"

namespace moelab {

// The text of a split or file as one token stream: its lines joined by "\n" (the file's own text
// for WikiText, whose lines are kept whole) and encoded once.
std::vector<int64_t> tokenStream(const std::vector<std::string>& lines, const Tokenizer& tokenizer);

struct SlidingWindowResult {
  double loss = 0, perplexity = 0;
  int64_t contextLength = 0, stride = 0;
  int64_t streamTokens = 0;  // tokens in the stream
  int64_t scored = 0;        // tokens predicted (every token after the first, once)
  int64_t windows = 0;
};

// Strided sliding-window perplexity: windows of `context` tokens start every `stride` tokens; each
// window scores only the tokens no earlier window scored, so every token after the first is
// predicted once, with at least context - stride tokens of history (except near the start).
// stride == context gives the plain perplexity of consecutive context-long chunks. `progress`
// (windows done, windows in all) returning false cancels (throws Cancelled).
SlidingWindowResult slidingWindowPerplexity(LanguageModel& model, const std::vector<int64_t>& stream,
                                            int64_t context, int64_t stride, int64_t batchSize,
                                            const std::function<bool(int64_t, int64_t)>& progress = {});

}  // namespace moelab
