#include "util/OpenMpWaitPolicy.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace moelab {

void restartWithPassiveOpenMpWaiting(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  execv("/proc/self/exe", argv);
  std::fprintf(stderr,
               "warning: could not restart with OMP_WAIT_POLICY=PASSIVE (%s); training may run ~20%% "
               "slower. Set OMP_WAIT_POLICY=PASSIVE in the environment to avoid this.\n",
               std::strerror(errno));
}

const char* openMpWaitPolicy() {
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  return policy ? policy : "default";
}

}  // namespace moelab
