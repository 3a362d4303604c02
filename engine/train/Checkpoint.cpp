#include "train/Checkpoint.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "util/Errors.h"
#include "util/FileSync.h"
#include "util/Sha256.h"

namespace fs = std::filesystem;

namespace moelab {
namespace {
constexpr const char* kFormat = "moelab-checkpoint-v1";

// Temp files `path`.tmp.<pid>.<n> left by writers that were killed (their pid is gone).
void removeDeadWritersTemps(const std::string& path) {
  const fs::path p(path);
  const std::string prefix = p.filename().string() + ".tmp.";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(p.parent_path(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && ::kill(pid_t(pid), 0) != 0 && errno == ESRCH) fs::remove(entry.path(), ec);
  }
}

// Digests listed in `path`.sha256, newest first (empty when there is no sidecar).
std::vector<std::string> readDigests(const std::string& path) {
  std::ifstream in(path + ".sha256");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line))
    if (line.size() == 64) out.push_back(line);
  return out;
}

void writeDigests(const std::string& path, const std::vector<std::string>& digests) {
  const std::string sidecar = path + ".sha256", tmp = sidecar + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (const auto& d : digests)
      if (!d.empty()) out << d << "\n";
    out.close();
    if (!out) throw std::runtime_error("cannot write " + tmp);
  }
  syncToDisk(tmp, /*directory=*/false);
  fs::rename(tmp, sidecar);
}

torch::serialize::InputArchive openArchive(const std::string& path) {
  if (!fs::is_regular_file(path)) throw UserError("checkpoint not found: " + path);
  torch::serialize::InputArchive in;
  try {
    in.load_from(path);
  } catch (const c10::Error& e) {
    verifyCheckpoint(path);  // a digest mismatch says more precisely what happened
    throw UserError("checkpoint " + path + " is corrupt or not a MoE Lab checkpoint (" +
                    std::string(e.what_without_backtrace()) + ")");
  }
  return in;
}
}  // namespace

std::string saveCheckpoint(const std::string& path, const CheckpointState& s, LanguageModel& model,
                           torch::optim::Optimizer& optimizer) {
  nlohmann::json meta = {{"format", kFormat},  {"step", s.step},
                         {"epoch", s.epoch},   {"batch_in_epoch", s.batchInEpoch},
                         {"config", s.config}, {"tokenizer", s.tokenizer}};
  meta["total_steps"] = s.totalSteps;
  meta["anchor_step"] = s.anchorStep;
  meta["anchor_rate"] = s.anchorRate;
  meta["next_learning_rate"] = s.nextLearningRate;
  meta["vocab_size"] = s.vocabSize;
  meta["world_size"] = s.worldSize;
  meta["best_val_loss"] =
      std::isfinite(s.bestValLoss) ? nlohmann::json(s.bestValLoss) : nlohmann::json(nullptr);
  torch::serialize::OutputArchive out, modelAr, optAr;
  model->save(modelAr);
  optimizer.save(optAr);
  out.write("meta", c10::IValue(meta.dump()));
  out.write("model", modelAr);
  out.write("optimizer", optAr);
  out.write("rng_state", at::detail::getDefaultCPUGenerator().get_state(), /*is_buffer=*/true);
  if (!s.rankRng.empty()) out.write("rank_rng", torch::stack(s.rankRng), /*is_buffer=*/true);
  const fs::path dir = fs::path(path).parent_path();
  fs::create_directories(dir);
  // A name of its own per writer (two processes resuming one run by mistake must not interleave
  // bytes in one temp file); contents reach the disk before the rename makes them the checkpoint,
  // and the rename itself is made durable by syncing the folder.
  removeDeadWritersTemps(path);
  static std::atomic<uint64_t> counter{0};
  const std::string tmp = path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(++counter);
  std::string digest;
  try {
    out.save_to(tmp);
    syncToDisk(tmp, /*directory=*/false);
    digest = Sha256::ofFile(tmp);
    // While the rename is pending the sidecar lists the new digest and every one that may describe
    // the file still in place (all listed so far, or its own hash when it has no sidecar yet), so
    // whenever the process dies the checkpoint on disk matches a listed digest. Afterwards only
    // the new one remains.
    auto listed = readDigests(path);
    if (listed.empty() && fs::exists(path)) listed.push_back(Sha256::ofFile(path));
    listed.insert(listed.begin(), digest);
    if (listed.size() > 8) listed.resize(8);
    writeDigests(path, listed);
    fs::rename(tmp, path);  // atomic on POSIX: a reader sees the old or the new file, never half
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
  syncToDisk(dir.string(), /*directory=*/true);
  writeDigests(path, {digest});
  return digest;
}

std::string checkpointDigestPath(const std::string& path) {
  return path + ".sha256";
}

void verifyCheckpoint(const std::string& path) {
  auto listed = readDigests(path);
  if (listed.empty()) return;  // written before digests were kept
  const std::string actual = Sha256::ofFile(path);
  if (std::find(listed.begin(), listed.end(), actual) == listed.end())
    throw UserError("checkpoint " + path + " is damaged: its SHA-256 " + actual.substr(0, 16) +
                    "... differs from the one recorded when it was written (" + listed.front().substr(0, 16) +
                    "..., in " + checkpointDigestPath(path) +
                    "); use the run's other checkpoint (best.pt / last.pt) or restore the file");
}

CheckpointState readCheckpointState(const std::string& path) {
  auto in = openArchive(path);
  c10::IValue metaValue;
  nlohmann::json meta;
  try {
    in.read("meta", metaValue);
    meta = nlohmann::json::parse(metaValue.toStringRef());
  } catch (const std::exception& e) {
    throw UserError("checkpoint " + path + " has no readable MoE Lab metadata (" + e.what() + ")");
  }
  if (meta.value("format", "") != kFormat) throw UserError("checkpoint " + path + " has an unknown format");
  CheckpointState s;
  s.step = meta["step"];
  s.epoch = meta["epoch"];
  s.batchInEpoch = meta["batch_in_epoch"];
  s.bestValLoss = meta["best_val_loss"].is_null() ? std::numeric_limits<double>::infinity()
                                                  : meta["best_val_loss"].get<double>();
  s.totalSteps = meta.value("total_steps", int64_t(0));
  s.anchorStep = meta.value("anchor_step", int64_t(-1));
  s.anchorRate = meta.value("anchor_rate", 0.0);
  s.nextLearningRate = meta.value("next_learning_rate", 0.0);
  s.vocabSize = meta.value("vocab_size", int64_t(0));
  s.worldSize = meta.value("world_size", int64_t(1));
  s.config = meta["config"];
  s.tokenizer = meta["tokenizer"];
  return s;
}

void loadCheckpoint(const std::string& path, LanguageModel& model, torch::optim::Optimizer* optimizer,
                    bool restoreRng, int rank) {
  verifyCheckpoint(path);
  auto in = openArchive(path);
  try {
    torch::serialize::InputArchive modelAr;
    in.read("model", modelAr);
    model->load(modelAr);
    if (optimizer) {
      torch::serialize::InputArchive optAr;
      in.read("optimizer", optAr);
      optimizer->load(optAr);
    }
    if (restoreRng) {
      torch::Tensor rng;
      if (rank > 0 || readCheckpointState(path).worldSize > 1) {
        in.read("rank_rng", rng, /*is_buffer=*/true);
        rng = rng[rank].contiguous();
      } else {
        in.read("rng_state", rng, /*is_buffer=*/true);
      }
      auto gen = at::detail::getDefaultCPUGenerator();
      gen.set_state(rng);
    }
  } catch (const c10::Error& e) {
    throw UserError("checkpoint " + path + " does not match the model or is damaged (" +
                    std::string(e.what_without_backtrace()) + ")");
  }
}

}  // namespace moelab
