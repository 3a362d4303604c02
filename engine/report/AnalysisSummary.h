#pragma once
#include <string>

#include "store/ExperimentStore.h"

namespace moelab {

// One line saying what an analysis of a run measured, for `runs show` and the run page:
// "perplexity 123.45 on test (strided, context 256, stride 128, 245,001 tokens)",
// "LAMBADA accuracy 12.30% (5,153 passages), word perplexity 456.7",
// "routing over valid: mean Gini 0.312, CV 0.64, max/mean 2.10, perplexity 210.3",
// "reassignment of 6 strategies over valid on dgx-h100 (8 GPUs)".
std::string summarizeAnalysis(const AnalysisRecord& a);

}  // namespace moelab
