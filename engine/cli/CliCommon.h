#pragma once
#include <atomic>
#include <memory>
#include <string>

#include "cli/CliArgs.h"
#include "config/ExperimentConfig.h"
#include "data/TextSource.h"
#include "store/ExperimentStore.h"

namespace moelab::cli {

// Commands that train open for writing (creating the file when needed); commands that only read
// pass readOnly, which needs an existing MoE Lab database and never writes to it.
std::unique_ptr<ExperimentStore> openStore(const CliArgs& a, bool mustExist = false, bool readOnly = false);
int64_t parseRunId(const std::string& text);
// `runs compare ID ID...` (ReportCommands.cpp).
int compareRuns(const CliArgs& a);
// --checkpoint FILE, or --run ID's best.pt / last.pt (`which`: "best" falls back to last.pt when
// no evaluation has produced a best yet; "last").
std::string checkpointFromArgs(const CliArgs& a, const std::string& which = "best");

// --split valid|test|train (default `defaultSplit`), refused with --file or when unknown.
std::string splitFromArgs(const CliArgs& a, const std::string& defaultSplit);
// --split valid|test|train of the model's own data set (default `defaultSplit`), or --file F.
TextSource textSourceFromArgs(const CliArgs& a, const ExperimentConfig& cfg, const std::string& defaultSplit);

// A progress bar on stderr for long loops (redrawn in place on a terminal, every quarter
// otherwise). Its call operator fits the engine's progress callbacks; it returns false once
// Ctrl-C was pressed, which cancels the computation.
class ProgressBar {
 public:
  explicit ProgressBar(std::string what);
  bool operator()(int64_t done, int64_t total);

 private:
  std::string what_;
  bool tty_;
  int lastQuarter_ = -1;
  const std::atomic<bool>* stop_;
};

std::string formatDuration(double seconds);
// Installs SIGINT/SIGTERM handlers that raise the returned flag (a run or sweep stops at its next
// step, saving `last`).
const std::atomic<bool>* stopOnSignals();
bool stdoutIsTerminal();

}  // namespace moelab::cli
