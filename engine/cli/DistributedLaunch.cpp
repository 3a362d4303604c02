#include "cli/DistributedLaunch.h"

#include <c10/util/Exception.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "dist/DistributedContext.h"
#include "dist/RankLauncher.h"
#include "util/Errors.h"

namespace fs = std::filesystem;

namespace moelab::cli {

const std::set<std::string>& distributedOptions() {
  static const std::set<std::string> names = {"nproc",  "nnodes",  "node-rank",
                                              "master", "backend", "dist-timeout"};
  return names;
}

namespace {
// The words without the launcher's options and --threads (each rank gets its share).
Words rankWords(const Words& words) {
  Words out;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    std::string name = w.rfind("--", 0) == 0 ? w.substr(2) : std::string();
    const bool inlineValue = name.find('=') != std::string::npos;
    if (inlineValue) name = name.substr(0, name.find('='));
    if (distributedOptions().count(name) || name == "threads") {
      if (!inlineValue) ++i;  // its value
      continue;
    }
    out.push_back(w);
  }
  return out;
}
}  // namespace

std::optional<RankLaunch> planLaunch(const std::string& command, const Words& words, const CliArgs& a) {
  if (DistributedSpec::fromEnvironment()) {
    for (const auto& name : distributedOptions())
      if (a.has(name))
        throw UserError("--" + name + " is for the launcher; this process is already rank " +
                        std::string(std::getenv(distenv::kRank)) + " of a job (WORLD_SIZE is set)");
    return std::nullopt;
  }
  RankLaunch l;
  l.nproc = int(a.getInt("nproc", 1));
  l.nnodes = int(a.getInt("nnodes", 1));
  l.nodeRank = int(a.getInt("node-rank", 0));
  if (l.nproc < 1 || l.nproc > 256) throw UserError("--nproc: expected 1 to 256 ranks on this machine");
  if (l.nnodes < 1) throw UserError("--nnodes: expected at least 1");
  if (l.nproc == 1 && l.nnodes == 1) {
    for (const char* name : {"node-rank", "master", "backend", "dist-timeout"})
      if (a.has(name))
        throw UserError(std::string("--") + name + " only applies to a job with --nproc or --nnodes above 1");
    return std::nullopt;
  }
  if (a.has("master")) {
    const std::string m = a.get("master");
    const auto colon = m.rfind(':');
    if (colon == std::string::npos || colon == 0)
      throw UserError("--master: expected ADDR:PORT, got \"" + m + "\"");
    l.masterAddr = m.substr(0, colon);
    try {
      l.masterPort = std::stoi(m.substr(colon + 1));
    } catch (const std::exception&) {
      l.masterPort = -1;
    }
    if (l.masterPort < 1 || l.masterPort > 65535)
      throw UserError("--master: the port must be 1 to 65535, got \"" + m + "\"");
  }
  l.backend = a.get("backend", "auto");
  if (l.backend == "auto") l.backend = "gloo";  // nccl once a CUDA build is present
  if (l.backend != "gloo" && l.backend != "nccl")
    throw UserError("--backend: expected gloo, nccl or auto, got \"" + l.backend + "\"");
  if (l.backend == "nccl")
    throw UserError("--backend nccl: this build of MoE Lab has no CUDA/NCCL; use --backend gloo");
  l.timeoutSeconds = double(a.getInt("dist-timeout", 300));
  if (l.timeoutSeconds < 1) throw UserError("--dist-timeout: expected seconds >= 1");
  const int64_t total = a.has("threads") ? a.getInt("threads", 0) : 0;
  const int64_t cores = total > 0 ? total : int64_t(std::max(1u, std::thread::hardware_concurrency()));
  const int64_t perRank = std::max<int64_t>(1, cores / l.nproc);
  l.executable = fs::read_symlink("/proc/self/exe").string();
  l.args = {command};
  const Words rest = rankWords(words);
  l.args.insert(l.args.end(), rest.begin(), rest.end());
  l.args.push_back("--threads");
  l.args.push_back(std::to_string(perRank));
  l.dbPath = fs::absolute(a.get("db", "moelab.db")).string();
  return l;
}

int launchIfDistributed(const std::string& command, const Words& words, const CliArgs& a) {
  const auto plan = planLaunch(command, words, a);
  if (!plan) return -1;
  const RankLaunch& l = *plan;
  const std::string perRank = l.args.back();
  std::fprintf(stderr, "starting %d rank%s on this machine (%s thread%s each, %s, world size %d)\n", l.nproc,
               l.nproc == 1 ? "" : "s", perRank.c_str(), perRank == "1" ? "" : "s", l.backend.c_str(),
               l.nproc * l.nnodes);
  const RankLaunchResult r = launchRanks(l);
  if (r.failedRank >= 0)
    std::fprintf(stderr, "error: the job failed: %s; the other ranks were stopped\n", r.failure.c_str());
  return r.exitCode;
}

int runAsRank(const std::function<int(DistributedContext*)>& body) {
  const auto spec = DistributedSpec::fromEnvironment();
  if (!spec) return body(nullptr);
  std::unique_ptr<DistributedContext> dist;
  try {
    dist = std::make_unique<DistributedContext>(*spec);
    return body(dist.get());
  } catch (const RankDeclined&) {
    return 2;
  } catch (const std::exception& e) {
    const auto* torchError = dynamic_cast<const c10::Error*>(&e);
    const std::string message = torchError ? torchError->what_without_backtrace() : e.what();
    if (dist) dist->reportFailure(message);
    recordLaunchError(*spec, message);
    throw;
  }
}

}  // namespace moelab::cli
