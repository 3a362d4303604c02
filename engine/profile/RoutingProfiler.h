#pragma once
#include <functional>
#include <string>

#include "data/LmDataset.h"
#include "model/LanguageModel.h"
#include "profile/RoutingProfile.h"

namespace moelab {

struct ProfileOptions {
  int64_t batchSize = 8;
  int64_t positionBuckets = 0;  // split counts into this many equal spans of the context (0: no)
  int64_t shards = 0;           // data-parallel shards: sample i comes from shard i mod G (0: no)
  ReassignSpec strategy;        // route with this instead of the trained top-k
  // Also score the text (loss, perplexity). Routing alone stops before the LM head, which is most
  // of the work for a 50k vocabulary (about 12x faster on a quickstart-sized model).
  bool measureLoss = false;
  // Called after each batch with (samples done, samples in all); returning false cancels (throws
  // Cancelled).
  std::function<bool(int64_t, int64_t)> progress;
};

// Runs the model over every sample of `split` in evaluation mode and records every routing
// decision (sparse_moe) or the expert coupling of every token (gnn_moe), and, when asked, the loss
// on that text. The model is left in evaluation mode with top-k routing restored.
RoutingProfile profileRouting(LanguageModel& model, const TokenSplit& split, const std::string& source,
                              const ProfileOptions& options);

}  // namespace moelab
