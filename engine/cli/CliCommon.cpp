#include "cli/CliCommon.h"

#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "data/DataLocator.h"
#include "data/LmDataset.h"
#include "data/VocabTokenizer.h"
#include "train/Checkpoint.h"
#include "train/Trainer.h"
#include "util/Errors.h"

namespace fs = std::filesystem;

namespace moelab::cli {

std::unique_ptr<ExperimentStore> openStore(const CliArgs& a, bool mustExist, bool readOnly) {
  std::string path = a.get("db", "moelab.db");
  if ((mustExist || readOnly) && !fs::exists(path))
    throw UserError("experiment database not found: " + path + " (pass --db FILE, or train a run first)");
  if (fs::is_directory(path)) throw UserError(path + " is a folder, not an experiment database");
  return std::make_unique<ExperimentStore>(path, readOnly);
}

int64_t parseRunId(const std::string& text) {
  try {
    size_t used = 0;
    int64_t id = std::stoll(text, &used);
    if (used == text.size() && id > 0) return id;
  } catch (const std::logic_error&) {
  }
  throw UserError("run id: expected a positive integer, got \"" + text + "\"");
}

std::string runCheckpoint(const ExperimentStore& store, int64_t runId, bool preferBest) {
  auto run = store.run(runId);
  if (!run) throw UserError("no run with id " + std::to_string(runId));
  if (run->checkpointDir.empty()) throw UserError("run " + std::to_string(runId) + " has no checkpoint yet");
  std::string best = run->checkpointDir + "/best.pt", last = run->checkpointDir + "/last.pt";
  if (preferBest && fs::exists(best)) return best;
  if (fs::exists(last)) return last;
  if (fs::exists(best)) return best;
  throw UserError("run " + std::to_string(runId) + ": no checkpoint in " + run->checkpointDir);
}

std::string checkpointFromArgs(const CliArgs& a, const std::string& which) {
  if (a.has("checkpoint") == a.has("run"))
    throw UserError("give exactly one of --run ID or --checkpoint FILE");
  if (a.has("checkpoint")) return a.get("checkpoint");
  auto store = openStore(a, /*mustExist=*/true, /*readOnly=*/true);
  return runCheckpoint(*store, parseRunId(a.get("run")), /*preferBest=*/which == "best");
}

LoadedModel loadModel(const std::string& path, const std::string& dataDir, bool withTokenizer) {
  CheckpointState s = readCheckpointState(path);
  LoadedModel m;
  m.config = ExperimentConfig::fromJson(s.config);
  int64_t vocab = s.vocabSize;
  if (withTokenizer) {
    m.tokenizer = LmDataset::tokenizerFromDescription(s.tokenizer, DataLocator(dataDir));
    vocab = m.tokenizer->vocabSize();
  } else if (vocab == 0) {
    // Checkpoints from before the vocabulary size was recorded: GPT-2's is fixed, word and char
    // tokenizers carry their symbols in the description.
    vocab = s.tokenizer.value("name", "") == "gpt2"
                ? 50257
                : VocabTokenizer::fromDescription(s.tokenizer).vocabSize();
  }
  m.model = LanguageModel(resolveModelConfig(m.config, vocab));
  loadCheckpoint(path, m.model, nullptr, false);
  m.model->eval();
  m.step = s.step;
  return m;
}

std::string formatDuration(double s) {
  if (!(s >= 0) || s > 1e7) return "--:--";
  int64_t t = int64_t(s + 0.5);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", long(t / 3600), long(t / 60 % 60), long(t % 60));
  else
    std::snprintf(buf, sizeof buf, "%02ld:%02ld", long(t / 60), long(t % 60));
  return buf;
}

bool stdoutIsTerminal() {
  return isatty(STDOUT_FILENO);
}

namespace {
std::atomic<bool> gStopRequested{false};
void raiseStop(int) {
  gStopRequested = true;
}
}  // namespace

const std::atomic<bool>* stopOnSignals() {
  std::signal(SIGINT, raiseStop);
  std::signal(SIGTERM, raiseStop);
  return &gStopRequested;
}

}  // namespace moelab::cli
