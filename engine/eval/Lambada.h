#pragma once
#include <functional>
#include <string>
#include <vector>

#include "data/Tokenizer.h"
#include "model/LanguageModel.h"

namespace moelab {

// One LAMBADA passage: the text before its last whitespace-separated word, and that word.
struct LambadaItem {
  std::string context, target;
};

// The OpenAI LAMBADA jsonl ({"text": ...} per line). Throws DataError naming the file and line of
// a malformed record or a passage with no last word.
std::vector<LambadaItem> readLambada(const std::string& path);
LambadaItem splitLastWord(const std::string& text);  // throws UserError when there is no word

struct LambadaResult {
  int64_t passages = 0, correct = 0;
  double accuracy = 0;
  double perplexity = 0;  // exp of the mean over passages of the target word's NLL (all its tokens)
  double tokenLoss = 0;   // mean NLL per target token
  int64_t targetTokens = 0;
  int64_t truncated = 0;  // passages whose context was cut from the left to fit max_seq_length
};

// Last-word accuracy (every token of the word is the model's greedy choice given the passage) and
// the word's perplexity. The word is encoded with its leading space, apart from the context, as
// GPT-2's evaluation did. `progress` (passages done, in all) returning false throws Cancelled.
LambadaResult evaluateLambada(LanguageModel& model, const Tokenizer& tokenizer,
                              const std::vector<LambadaItem>& items, int64_t batchSize,
                              const std::function<bool(int64_t, int64_t)>& progress = {});

}  // namespace moelab
