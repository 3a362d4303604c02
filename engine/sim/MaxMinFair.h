#pragma once
#include <vector>

namespace moelab::sim {

// Flows over capacitated links. Each flow has a size and the links it crosses.
struct FluidFlow {
  double bytes = 0;
  std::vector<int> links;
};

// Max-min fair rates by progressive filling: raise every unfrozen flow's rate together; when a
// link saturates, freeze its flows at the current level. Returns one rate per flow.
std::vector<double> maxMinFairRates(const std::vector<FluidFlow>& flows, const std::vector<double>& capacity);

// Completion time of every flow when all start at t = 0 and rates are re-shared max-min fairly
// whenever a flow finishes (fluid processor sharing).
std::vector<double> fluidCompletionTimes(const std::vector<FluidFlow>& flows,
                                         const std::vector<double>& capacity);

}  // namespace moelab::sim
