#include "cli/CliCommon.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>

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

std::string checkpointFromArgs(const CliArgs& a, const std::string& which) {
  if (a.has("checkpoint") == a.has("run"))
    throw UserError("give exactly one of --run ID or --checkpoint FILE");
  if (a.has("checkpoint")) return a.get("checkpoint");
  auto store = openStore(a, /*mustExist=*/true, /*readOnly=*/true);
  return store->checkpointPath(parseRunId(a.get("run")), /*preferBest=*/which == "best");
}

std::string splitFromArgs(const CliArgs& a, const std::string& defaultSplit) {
  if (a.has("file") && a.has("split")) throw UserError("give --split or --file, not both");
  const std::string split = a.get("split", defaultSplit);
  if (!a.has("file") && split != "valid" && split != "test" && split != "train")
    throw UserError("--split: expected valid, test or train, got \"" + split + "\"");
  return split;
}

TextSource textSourceFromArgs(const CliArgs& a, const ExperimentConfig& cfg,
                              const std::string& defaultSplit) {
  return loadTextSource(cfg.data, a.get("data-dir"), splitFromArgs(a, defaultSplit), a.get("file"));
}

ProgressBar::ProgressBar(std::string what)
    : what_(std::move(what)), tty_(isatty(STDERR_FILENO)), stop_(stopOnSignals()) {}

bool ProgressBar::operator()(int64_t done, int64_t total) {
  const double f = total > 0 ? double(done) / double(total) : 1.0;
  if (tty_) {
    const int width = 30, filled = int(f * width + 0.5);
    std::fprintf(stderr, "\r%s [%s%s] %3.0f%% %ld/%ld", what_.c_str(),
                 std::string(size_t(filled), '#').c_str(), std::string(size_t(width - filled), ' ').c_str(),
                 100 * f, long(done), long(total));
    if (done >= total) std::fprintf(stderr, "\n");
  } else if (int(f * 4) > lastQuarter_) {
    lastQuarter_ = int(f * 4);
    std::fprintf(stderr, "%s: %ld/%ld (%.0f%%)\n", what_.c_str(), long(done), long(total), 100 * f);
  }
  std::fflush(stderr);
  return !stop_->load();
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
