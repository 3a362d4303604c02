#include "dist/RankLauncher.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "store/ExperimentStore.h"
#include "util/Errors.h"

namespace fs = std::filesystem;

namespace moelab {
namespace {

std::atomic<int> gForwardSignal{0};
void rememberSignal(int sig) {
  gForwardSignal = sig;
}

std::string readFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void writeFileAtomically(const fs::path& p, const std::string& text) {
  const fs::path tmp = p.string() + ".tmp";
  {
    std::ofstream out(tmp);
    out << text;
  }
  std::error_code ec;
  fs::rename(tmp, p, ec);
}

std::string describeExit(int rank, pid_t pid, int status) {
  std::string what = "rank " + std::to_string(rank) + " (pid " + std::to_string(pid) + ") ";
  if (WIFSIGNALED(status))
    return what + "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  return what + "exited with code " + std::to_string(WEXITSTATUS(status));
}

bool failed(int status, bool stopRequested) {
  // After a forwarded stop, a rank still starting up (no handler yet) ends by the signal itself.
  if (WIFSIGNALED(status))
    return !(stopRequested && (WTERMSIG(status) == SIGINT || WTERMSIG(status) == SIGTERM));
  const int code = WEXITSTATUS(status);
  return code != 0 && code != 130;  // 130: stopped on request, its checkpoint saved
}

pid_t spawnRank(const RankLaunch& l, int localRank, const std::string& launchDir) {
  const int rank = l.nodeRank * l.nproc + localRank, world = l.nnodes * l.nproc;
  std::vector<std::string> env = {
      std::string(distenv::kRank) + "=" + std::to_string(rank),
      std::string(distenv::kWorldSize) + "=" + std::to_string(world),
      std::string(distenv::kLocalRank) + "=" + std::to_string(localRank),
      std::string(distenv::kMasterAddr) + "=" + l.masterAddr,
      std::string(distenv::kMasterPort) + "=" + std::to_string(l.masterPort),
      std::string(distenv::kTimeout) + "=" + std::to_string(int64_t(l.timeoutSeconds + 0.5)),
      std::string(distenv::kBackend) + "=" + l.backend,
      std::string(distenv::kLaunchDir) + "=" + launchDir};
  std::vector<std::string> argv = {l.executable};
  argv.insert(argv.end(), l.args.begin(), l.args.end());
  // Built before fork: the child only calls async-signal-safe functions.
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (char** e = environ; *e; ++e) {
    bool replaced = false;
    for (const char* name : {distenv::kRank, distenv::kWorldSize, distenv::kLocalRank, distenv::kMasterAddr,
                             distenv::kMasterPort, distenv::kTimeout, distenv::kBackend, distenv::kLaunchDir})
      if (std::strncmp(*e, name, std::strlen(name)) == 0 && (*e)[std::strlen(name)] == '=') replaced = true;
    if (!replaced) cenv.push_back(*e);
  }
  for (auto& e : env) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0)
    throw std::runtime_error(std::string("cannot start rank ") + std::to_string(rank) + ": " +
                             strerror(errno));
  if (pid == 0) {
    // A launcher that is killed outright takes its ranks with it (they stop at a step and save).
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1) _exit(1);
    execve(cargv[0], cargv.data(), cenv.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

int freeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("cannot open a socket to find a free port");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    throw std::runtime_error("cannot bind a loopback port for the ranks' rendezvous");
  }
  const int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

void recordLaunchRun(const DistributedSpec& spec, int64_t runId) {
  if (!spec.launchDir.empty())
    writeFileAtomically(fs::path(spec.launchDir) / "run_id", std::to_string(runId));
}

void recordLaunchError(const DistributedSpec& spec, const std::string& message) {
  if (!spec.launchDir.empty())
    writeFileAtomically(fs::path(spec.launchDir) / ("rank" + std::to_string(spec.rank) + ".error"), message);
}

RankLaunchResult launchRanks(const RankLaunch& launchIn) {
  RankLaunch l = launchIn;
  if (l.nproc < 1) throw UserError("--nproc must be at least 1");
  if (l.nnodes < 1 || l.nodeRank < 0 || l.nodeRank >= l.nnodes)
    throw UserError("--node-rank must be in [0, --nnodes)");
  if (l.masterPort == 0) {
    if (l.nnodes > 1) throw UserError("a multi-node job needs --master ADDR:PORT (the address of node 0)");
    l.masterPort = freeLoopbackPort();
  }
  char tmpl[] = "/tmp/moelab-launch-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("cannot create the launcher's temporary folder");
  const fs::path dir = tmpl;

  // Ctrl-C reaches the ranks through the terminal; a SIGTERM/SIGINT sent to the launcher alone (the
  // desktop app's Stop) is passed on as SIGINT: each rank stops at a step and saves.
  gForwardSignal = 0;
  auto oldInt = std::signal(SIGINT, rememberSignal);
  auto oldTerm = std::signal(SIGTERM, rememberSignal);
  std::vector<pid_t> pids;
  RankLaunchResult result;
  try {
    for (int r = 0; r < l.nproc; ++r) pids.push_back(spawnRank(l, r, dir.string()));
  } catch (...) {
    for (pid_t p : pids) kill(p, SIGKILL);
    for (pid_t p : pids) waitpid(p, nullptr, 0);
    std::signal(SIGINT, oldInt);
    std::signal(SIGTERM, oldTerm);
    std::error_code ec;
    fs::remove_all(dir, ec);
    throw;
  }
  std::vector<int> status(pids.size(), 0);
  std::vector<bool> done(pids.size(), false);
  size_t running = pids.size();
  std::vector<size_t> failures;  // local indices, in the order they were seen
  bool forwarded = false;
  std::chrono::steady_clock::time_point deadline{};
  while (running > 0) {
    if (gForwardSignal && !forwarded) {
      for (size_t i = 0; i < pids.size(); ++i)
        if (!done[i]) kill(pids[i], SIGINT);
      forwarded = true;
    }
    bool reaped = false;
    for (size_t i = 0; i < pids.size(); ++i) {
      if (done[i]) continue;
      int st = 0;
      if (waitpid(pids[i], &st, WNOHANG) != pids[i]) continue;
      done[i] = true;
      status[i] = st;
      --running;
      reaped = true;
      if (failed(st, forwarded)) {
        if (failures.empty())
          deadline = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(int64_t(1000 * (l.timeoutSeconds + 5)));
        failures.push_back(i);
      }
    }
    if (!failures.empty() && running > 0 && std::chrono::steady_clock::now() >= deadline) {
      for (size_t i = 0; i < pids.size(); ++i)
        if (!done[i]) kill(pids[i], SIGKILL);
      deadline = std::chrono::steady_clock::now() + std::chrono::hours(1);
    }
    if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::signal(SIGINT, oldInt);
  std::signal(SIGTERM, oldTerm);

  const fs::path runFile = dir / "run_id";
  if (fs::exists(runFile)) result.runId = std::atoll(readFile(runFile).c_str());
  if (!failures.empty()) {
    // The cause, not its echo: a rank whose collective broke because another died exits too, maybe
    // first to be seen. Prefer a rank killed by a signal, then one with an error of its own.
    auto errorOf = [&](size_t i) {
      const fs::path f = dir / ("rank" + std::to_string(l.nodeRank * l.nproc + int(i)) + ".error");
      return fs::exists(f) ? readFile(f) : std::string();
    };
    size_t cause = failures.front();
    bool found = false;
    for (size_t i : failures)
      if (!found && WIFSIGNALED(status[i])) cause = i, found = true;
    for (size_t i : failures)  // a rank rank 0 declined exits 2 without an error of its own
      if (!found && !errorOf(i).empty() && errorOf(i).find(kCollectiveBroke) == std::string::npos)
        cause = i, found = true;
    result.failedRank = l.nodeRank * l.nproc + int(cause);
    result.failure = describeExit(result.failedRank, pids[cause], status[cause]);
    if (const std::string e = errorOf(cause); !e.empty()) result.failure += ": " + e;
    const int code = WIFEXITED(status[cause]) ? WEXITSTATUS(status[cause]) : 1;
    result.exitCode = code == 2 ? 2 : 1;
    // The run rank 0 created names the rank that failed (rank 0 itself may be the one, or may have
    // recorded only that its collective broke).
    if (result.runId > 0 && !l.dbPath.empty() && fs::exists(l.dbPath)) {
      try {
        ExperimentStore store(l.dbPath);
        auto run = store.run(result.runId);
        if (run && (run->status == "running" || run->status == "failed"))
          store.setStatus(
              result.runId, "failed",
              result.failure + "; the other ranks were stopped. Resume with `moelab-cli train --resume " +
                  std::to_string(result.runId) + " --nproc " + std::to_string(l.nproc * l.nnodes) + "`");
      } catch (const std::exception&) {
        // The database is what failed: the run is found stale later.
      }
    }
  } else {
    for (int st : status)
      if (WIFEXITED(st) && WEXITSTATUS(st) == 130) result.exitCode = 130;
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return result;
}

}  // namespace moelab
