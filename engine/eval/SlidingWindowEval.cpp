#include "eval/SlidingWindowEval.h"

#include <cmath>

#include "util/Errors.h"

namespace moelab {

std::vector<int64_t> tokenStream(const std::vector<std::string>& lines, const Tokenizer& tokenizer) {
  std::string text;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) text += '\n';
    text += lines[i];
  }
  return tokenizer.encode(text);
}

SlidingWindowResult slidingWindowPerplexity(LanguageModel& model, const std::vector<int64_t>& stream,
                                            int64_t context, int64_t stride, int64_t batchSize,
                                            const std::function<bool(int64_t, int64_t)>& progress) {
  if (context < 1 || context > model->cfg.maxSeqLength)
    throw UserError("sliding-window evaluation: context length " + std::to_string(context) +
                    " must be between 1 and the model's max_seq_length (" +
                    std::to_string(model->cfg.maxSeqLength) + ")");
  if (stride < 1 || stride > context)
    throw UserError("sliding-window evaluation: stride " + std::to_string(stride) +
                    " must be between 1 and the context length (" + std::to_string(context) + ")");
  if (stream.size() < 2) throw UserError("sliding-window evaluation: the text has fewer than two tokens");
  if (batchSize < 1) throw UserError("sliding-window evaluation: batch size must be at least 1");

  // Window w reads inputs [begin, end) and predicts tokens begin+1 .. end; it scores the ones after
  // the previous window's last prediction.
  struct Window {
    int64_t begin, end, firstScored;
  };
  const int64_t L = int64_t(stream.size());
  std::vector<Window> windows;
  for (int64_t begin = 0, scoredUpTo = 0; scoredUpTo < L - 1; begin += stride) {
    const int64_t end = std::min(begin + context, L - 1);
    windows.push_back({begin, end, scoredUpTo + 1});
    scoredUpTo = end;
  }

  torch::NoGradGuard noGrad;
  const bool wasTraining = model->is_training();
  model->eval();
  SlidingWindowResult r;
  r.contextLength = context;
  r.stride = stride;
  r.streamTokens = L;
  r.windows = int64_t(windows.size());
  double nll = 0;
  for (size_t w0 = 0; w0 < windows.size(); w0 += size_t(batchSize)) {
    const size_t w1 = std::min(windows.size(), w0 + size_t(batchSize));
    const int64_t B = int64_t(w1 - w0);
    auto inputs = torch::zeros({B, context}, torch::kLong);
    auto targets = torch::full({B, context}, -100, torch::kLong);
    auto mask = torch::zeros({B, context}, torch::kBool);
    auto in = inputs.accessor<int64_t, 2>();
    auto tg = targets.accessor<int64_t, 2>();
    auto mk = mask.accessor<bool, 2>();
    for (int64_t b = 0; b < B; ++b) {
      const Window& w = windows[w0 + size_t(b)];
      for (int64_t t = 0; t < w.end - w.begin; ++t) {
        in[b][t] = stream[size_t(w.begin + t)];
        mk[b][t] = true;
        const int64_t predicted = w.begin + t + 1;
        if (predicted >= w.firstScored) tg[b][t] = stream[size_t(predicted)];
      }
    }
    auto logits = model->forward(inputs, mask);
    nll += torch::nn::functional::cross_entropy(
               logits.reshape({-1, logits.size(-1)}).to(torch::kFloat), targets.reshape({-1}),
               torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100).reduction(torch::kSum))
               .item<double>();
    r.scored += targets.ne(-100).sum().item<int64_t>();
    if (progress && !progress(int64_t(w1), r.windows)) {
      model->train(wasTraining);
      throw Cancelled("evaluation cancelled");
    }
  }
  model->train(wasTraining);
  r.loss = nll / double(r.scored);
  r.perplexity = std::exp(r.loss);
  return r;
}

}  // namespace moelab
