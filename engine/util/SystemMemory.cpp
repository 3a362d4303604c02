#include "util/SystemMemory.h"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace moelab {

SystemMemory systemMemory() {
  SystemMemory m;
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  double kb = 0;
  while (in >> key >> kb >> unit) {
    if (key == "MemTotal:") m.totalBytes = kb * 1024.0;
    if (key == "MemAvailable:") m.availableBytes = kb * 1024.0;
  }
  return m;
}

double peakRssMb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

}  // namespace moelab

namespace moelab {

double currentRssMb() {
  std::ifstream in("/proc/self/statm");
  double pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * double(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

}  // namespace moelab
