#pragma once
#include <cstdint>

namespace moelab {

// The machine's memory, from /proc/meminfo (0 when unknown).
struct SystemMemory {
  double totalBytes = 0;      // MemTotal
  double availableBytes = 0;  // MemAvailable: what can be allocated without swapping
};
SystemMemory systemMemory();

double peakRssMb();     // this process's peak resident set
double currentRssMb();  // and its resident set now

}  // namespace moelab
