// eval: perplexity of a trained model (per-line samples as the seed scored them, or a strided
// sliding window over the text as one stream) and LAMBADA last-word accuracy; stored as
// evaluations of the run.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "cli/CliCommon.h"
#include "cli/TorchCommands.h"
#include "data/DataLocator.h"
#include "data/LmDataset.h"
#include "eval/Lambada.h"
#include "eval/SlidingWindowEval.h"
#include "train/ModelLoader.h"
#include "train/Trainer.h"
#include "util/Errors.h"

namespace moelab::cli {
namespace {

double secondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

void requireFinite(double loss, const std::string& what) {
  if (!std::isfinite(loss))
    throw UserError(what + " gave a non-finite loss (" + std::to_string(loss) +
                    "): the weights are damaged or the run diverged");
}

nlohmann::json lambada(const CliArgs& a, LoadedModel& m, std::string& label) {
  const std::string path =
      a.has("lambada-file")
          ? DataLocator(a.get("data-dir")).findFile(a.get("lambada-file"))
          : DataLocator(a.get("data-dir")).find("lambada", {"lambada_test.jsonl"}, "lambada") +
                "/lambada_test.jsonl";
  auto items = readLambada(path);
  if (a.has("max-samples") && a.getInt("max-samples", 0) > 0 &&
      size_t(a.getInt("max-samples", 0)) < items.size())
    items.resize(size_t(a.getInt("max-samples", 0)));
  ProgressBar bar("lambada");
  const auto start = std::chrono::steady_clock::now();
  const LambadaResult r =
      evaluateLambada(m.model, *m.tokenizer, items, a.getInt("batch-size", 16), std::ref(bar));
  label = "lambada";
  return {{"task", "lambada"},
          {"file", path},
          {"passages", r.passages},
          {"correct", r.correct},
          {"accuracy", r.accuracy},
          {"perplexity", r.perplexity},
          {"token_loss", r.tokenLoss},
          {"target_tokens", r.targetTokens},
          {"truncated", r.truncated},
          {"context_length", m.config.model.maxSeqLength},
          {"seconds", secondsSince(start)}};
}

nlohmann::json perplexity(const CliArgs& a, LoadedModel& m, std::string& label) {
  const std::string mode = a.get("mode", "lines");
  if (mode != "lines" && mode != "strided")
    throw UserError("--mode: expected lines or strided, got \"" + mode + "\"");
  if (mode == "lines" && (a.has("context") || a.has("stride")))
    throw UserError("--context and --stride apply to --mode strided");
  const TextSource text = textSourceFromArgs(a, m.config, "valid");
  const auto start = std::chrono::steady_clock::now();
  nlohmann::json out = {{"task", "perplexity"}, {"mode", mode}, {"source", text.label}};
  if (mode == "strided") {
    const int64_t context = a.getInt("context", m.config.model.maxSeqLength);
    const int64_t stride = a.getInt("stride", std::max<int64_t>(1, context / 2));
    const auto stream = tokenStream(text.lines, *m.tokenizer);
    ProgressBar bar("strided eval");
    const auto r =
        slidingWindowPerplexity(m.model, stream, context, stride, a.getInt("batch-size", 8), std::ref(bar));
    requireFinite(r.loss, "evaluating " + text.label);
    out.update({{"loss", r.loss},
                {"perplexity", r.perplexity},
                {"context_length", r.contextLength},
                {"stride", r.stride},
                {"stream_tokens", r.streamTokens},
                {"tokens", r.scored},
                {"windows", r.windows}});
    label = text.label + " strided " + std::to_string(context) + "/" + std::to_string(stride);
  } else {
    // The seed's mode: each line (or packed sample) a sample of max_seq_length, as the run trained.
    const int64_t cap = a.has("max-samples") ? a.getInt("max-samples", 0) : m.config.data.numEvalSamples;
    TokenSplit s = LmDataset::tokenize(text.lines, *m.tokenizer, m.config.data, m.config.model.maxSeqLength,
                                       cap, m.config.train.ignoreTokenZero);
    if (s.size() == 0)
      throw UserError(text.label +
                      ": no samples to evaluate (every line is shorter than data.min_line_chars?)");
    EvalResult r = evaluate(m.model, s, a.getInt("batch-size", m.config.train.batchSize));
    requireFinite(r.loss, "evaluating " + text.label);
    out.update({{"loss", r.loss},
                {"perplexity", r.perplexity},
                {"tokens", r.tokens},
                {"samples", r.samples},
                {"batches", r.batches},
                {"context_length", m.config.model.maxSeqLength},
                {"samples_cap", cap}});
    // What the run's periodic val/loss scored, so the two numbers can be told apart.
    const int64_t subset = m.config.train.evalBatches * m.config.train.batchSize;
    if (text.label == "valid" && subset > 0 && subset < s.size()) out["run_val_subset_samples"] = subset;
    label = text.label + " lines";
  }
  out["seconds"] = secondsSince(start);
  return out;
}

}  // namespace

int evalCommand(const Words& words) {
  auto a = CliArgs::parse(words, {"json", "lambada", "no-store"},
                          {"run", "checkpoint", "which", "db", "split", "file", "mode", "context", "stride",
                           "lambada-file", "max-samples", "data-dir", "threads", "batch-size"});
  if (a.has("lambada-file") && !a.has("lambada")) throw UserError("--lambada-file applies with --lambada");
  if (a.has("lambada") && (a.has("split") || a.has("file") || a.has("mode")))
    throw UserError("--lambada scores the LAMBADA passages; --split, --file and --mode apply to perplexity");
  const std::string path = checkpointFromArgs(a, a.get("which", "best"));
  setThreads(a.getInt("threads", 0));
  LoadedModel m = loadModel(path, a.get("data-dir"));
  std::string label;
  nlohmann::json out = a.has("lambada") ? lambada(a, m, label) : perplexity(a, m, label);
  out["checkpoint"] = path;
  out["step"] = m.step;
  if (a.has("run") && !a.has("no-store")) {
    // Kept with the run (its page lists them); written only now, after the work succeeded.
    auto store = openStore(a, /*mustExist=*/true);
    out["evaluation_id"] = store->addAnalysis(parseRunId(a.get("run")), "evaluation", label, out);
  }
  if (a.has("json")) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (out["task"] == "lambada") {
    std::printf(
        "LAMBADA: accuracy %.2f%% (%ld of %ld passages)  word perplexity %.2f  (%ld target tokens, %ld "
        "contexts cut to %ld tokens)\n",
        100 * out["accuracy"].get<double>(), long(out["correct"].get<int64_t>()),
        long(out["passages"].get<int64_t>()), out["perplexity"].get<double>(),
        long(out["target_tokens"].get<int64_t>()), long(out["truncated"].get<int64_t>()),
        long(out["context_length"].get<int64_t>()));
  } else if (out["mode"] == "strided") {
    std::printf(
        "%s: loss %.4f  perplexity %.2f  strided: context %ld, stride %ld, %ld windows, %ld tokens scored\n",
        out["source"].get<std::string>().c_str(), out["loss"].get<double>(), out["perplexity"].get<double>(),
        long(out["context_length"].get<int64_t>()), long(out["stride"].get<int64_t>()),
        long(out["windows"].get<int64_t>()), long(out["tokens"].get<int64_t>()));
  } else {
    std::printf(
        "%s split: loss %.4f  perplexity %.2f  over the whole split: %ld samples, %ld batches, %ld tokens\n",
        out["source"].get<std::string>().c_str(), out["loss"].get<double>(), out["perplexity"].get<double>(),
        long(out["samples"].get<int64_t>()), long(out["batches"].get<int64_t>()),
        long(out["tokens"].get<int64_t>()));
    if (out.contains("run_val_subset_samples"))
      std::printf(
          "note: the run's periodic val/loss scores a fixed subset of %ld of these %ld samples "
          "(train.eval_batches=%ld); its val_full/loss at the end scores all of them\n",
          long(out["run_val_subset_samples"].get<int64_t>()), long(out["samples"].get<int64_t>()),
          long(m.config.train.evalBatches));
  }
  std::printf(
      "(checkpoint %s, step %ld%s)\n", path.c_str(), long(m.step),
      out.contains("evaluation_id") ? (", stored as evaluation " + out["evaluation_id"].dump()).c_str() : "");
  return 0;
}

}  // namespace moelab::cli
