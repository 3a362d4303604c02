#include "cli/TorchCommands.h"

#include <c10/util/Exception.h>
#include <torch/torch.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <thread>

#include "util/Errors.h"

namespace moelab::cli {

void setThreads(int64_t threads) {
  torch::set_num_threads(threads > 0 ? int(threads) : int(std::max(1u, std::thread::hardware_concurrency())));
}

}  // namespace moelab::cli

extern "C" int moelab_engine_command(int argc, const char* const* argv) {
  using namespace moelab;
  using namespace moelab::cli;
  static const std::map<std::string, int (*)(const Words&)> commands = {
      {"train", trainCommand},
      {"eval", evalCommand},
      {"params", paramsCommand},
      {"bench", benchCommand},
      {"export-weights", exportWeightsCommand},
      {"profile", profileCommand},
      {"reassign", reassignCommand},
      {"sweep", sweepRunCommand}};
  if (argc < 1) return 2;
  const Words rest(argv + 1, argv + argc);
  try {
    auto it = commands.find(argv[0]);
    if (it == commands.end()) throw UserError(std::string("unknown command '") + argv[0] + "'");
    return it->second(rest);
  } catch (const UserError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const c10::Error& e) {
    std::cerr << "error: " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
