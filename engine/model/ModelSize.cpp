#include "model/ModelSize.h"

#include <cstdio>

#include "util/Errors.h"

namespace moelab {
namespace {

// One StackedAttention with `copies` copies: fused QKV (+ gate columns), output projection,
// optional biases and QK-norm weights.
int64_t attentionParameters(const ModelConfig& c, int64_t copies) {
  const int64_t D = c.embedDim, hd = c.headDim();
  const int64_t width = (c.numHeads + 2 * c.kvHeads()) * hd + (c.gatedAttention ? D : 0);
  int64_t n = D * width + D * D;
  if (c.bias) n += width + D;
  if (c.qkNorm) n += 2 * hd;
  return copies * n;
}

int64_t normParameters(const ModelConfig& c) {
  return c.rmsNorm() ? c.embedDim : 2 * c.embedDim;
}

// ExpertBlockStack: E pre-norm GPT-2 blocks (two norms, attention, D -> 4D -> D MLP).
int64_t blockStackParameters(const ModelConfig& c, int64_t copies) {
  const int64_t D = c.embedDim;
  int64_t mlp = 2 * D * 4 * D + (c.bias ? 4 * D + D : 0);
  return copies * (2 * normParameters(c) + mlp) + attentionParameters(c, copies);
}

// GnnCoupler: per GNN layer an E x E adjacency, the edge scorer Linear(2D, 1) and the neighbour
// and self Linear(D, D); then combine Linear(D, D) and a LayerNorm.
int64_t couplerParameters(const ModelConfig& c) {
  const int64_t D = c.embedDim, E = c.numExperts;
  int64_t perGnnLayer = E * E + (2 * D + 1) + 2 * (D * D + D);
  return c.gnnLayers * perGnnLayer + (D * D + D) + 2 * D;
}

bool isMoeLayer(const ModelConfig& c, int64_t i) {
  return (i + 1) % c.moeEvery == 0;
}

double gb(double bytes) {
  return bytes / 1e9;
}

}  // namespace

ParameterBreakdown countParameters(const ModelConfig& c) {
  ParameterBreakdown b;
  const int64_t D = c.embedDim, V = c.paddedVocab();
  b.other = V * D + (c.rope() ? 0 : c.maxSeqLength * D) + normParameters(c);
  if (!c.tieEmbeddings) b.other += V * D + (c.bias ? V : 0);
  for (int64_t i = 0; i < c.numLayers; ++i) {
    if (c.architecture == "gnn_moe") {
      b.experts += blockStackParameters(c, c.numExperts);
      b.gnnCoupling += couplerParameters(c);
    } else if (c.architecture == "dense") {
      b.other += blockStackParameters(c, 1);
    } else {  // sparse_moe
      const int64_t I = c.expertWidth();
      b.other += 2 * normParameters(c) + attentionParameters(c, 1);
      if (isMoeLayer(c, i)) {
        b.other += c.numExperts * D;  // router
        b.experts += c.numExperts * 3 * D * I + (c.sharedExperts > 0 ? 3 * D * c.sharedExperts * I : 0);
      } else {
        b.other += 3 * D * c.topK * I;  // dense SwiGLU as wide as the active experts
      }
    }
  }
  b.total = b.experts + b.gnnCoupling + b.other;
  return b;
}

double forwardFlopsPerToken(const ModelConfig& cfg, int64_t T) {
  const double D = double(cfg.embedDim), V = double(cfg.paddedVocab()), hd = double(cfg.headDim());
  const double H = double(cfg.numHeads), Hkv = double(cfg.kvHeads());
  // Attention projections (Q, K, V, optional gate, output) + scores and context at full length.
  double attention = 2.0 * D * ((H + 2 * Hkv) * hd + (cfg.gatedAttention ? D : 0) + D) + 2.0 * 2.0 * T * D;
  double total = 2.0 * D * V;
  if (cfg.architecture == "sparse_moe") {
    const double I = double(cfg.expertWidth()), k = double(cfg.topK), E = double(cfg.numExperts);
    for (int64_t i = 0; i < cfg.numLayers; ++i) {
      double ffn = isMoeLayer(cfg, i) ? (k + double(cfg.sharedExperts)) * 2.0 * 3.0 * D * I + 2.0 * D * E
                                      : k * 2.0 * 3.0 * D * I;
      total += attention + ffn;
    }
    return total;
  }
  const double E = cfg.architecture == "gnn_moe" ? double(cfg.numExperts) : 1.0;
  double block = attention + 2.0 * 8.0 * D * D;
  double coupler = 0.0;
  if (cfg.architecture == "gnn_moe")
    coupler = cfg.gnnLayers * (E * 2.0 * 2.0 * D * D + 2.0 * E * E * D + 2.0 * 2.0 * E * D) + 2.0 * D * D;
  return total + cfg.numLayers * (E * block + coupler);
}

TrainingMemoryEstimate estimateTrainingMemory(const ModelConfig& c, int64_t batchSize, int ranks) {
  TrainingMemoryEstimate m;
  m.parameters = countParameters(c).total;
  double P = double(m.parameters);
  if (ranks > 1) {
    batchSize = (batchSize + ranks - 1) / ranks;
    if (c.architecture == "sparse_moe" && c.expertParallel > 1) {
      int64_t moeLayers = 0;
      for (int64_t i = 0; i < c.numLayers; ++i) moeLayers += isMoeLayer(c, i) ? 1 : 0;
      const double routed =
          double(moeLayers) * double(c.numExperts) * 3.0 * double(c.embedDim) * double(c.expertWidth());
      P -= routed * (1.0 - 1.0 / double(c.expertParallel));
    }
  }
  m.weightsBytes = 4 * P;
  m.gradientsBytes = 4 * P;
  m.optimizerBytes = 8 * P;  // AdamW's first and second moments

  // fp32 values kept per token for the backward pass (rough upper counts of the saved tensors).
  const double D = double(c.embedDim), T = double(c.maxSeqLength), H = double(c.numHeads),
               hd = double(c.headDim()), Hkv = double(c.kvHeads()), E = double(c.numExperts);
  const double width = (H + 2 * Hkv) * hd + (c.gatedAttention ? D : 0);
  // Norm output, QKV, rotated/normed q and k, scores, softmax, dropped probabilities, context,
  // gate, projection, residual.
  const double attention = 4 * D + width + ((c.rope() || c.qkNorm) ? (H + Hkv) * hd : 0) + 3 * H * T +
                           (c.gatedAttention ? 2 * D : 0);
  const double gptMlp = 15 * D;                           // norm, fc1, GELU, dropout, fc2, residual
  double perToken = 2 * D + 3 * double(c.paddedVocab());  // embeddings; logits, log-softmax, gradient
  for (int64_t i = 0; i < c.numLayers; ++i) {
    if (c.architecture == "gnn_moe") {
      perToken += E * (attention + gptMlp) + E * D + c.gnnLayers * (6 * E * D + 3 * E * E) + 4 * D;
    } else if (c.architecture == "dense") {
      perToken += attention + gptMlp;
    } else {
      const double I = double(c.expertWidth()), k = double(c.topK);
      perToken += attention + D;
      if (isMoeLayer(c, i))
        perToken += 3 * E + k * c.capacityFactor * (3 * D + 4 * I) +
                    (c.sharedExperts > 0 ? 4 * double(c.sharedExperts) * I + 2 * D : 0);
      else
        perToken += 4 * k * I + 2 * D;
    }
  }
  m.activationsBytes = 4 * perToken * double(batchSize) * T;
  m.runtimeBytes = 0.4e9;  // LibTorch, the process, the tokenized data set
  return m;
}

std::string TrainingMemoryEstimate::describe() const {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "%.1f GB (weights %.2f, gradients %.2f, AdamW state %.2f, activations %.2f, runtime %.1f)",
                gb(totalBytes()), gb(weightsBytes), gb(gradientsBytes), gb(optimizerBytes),
                gb(activationsBytes), gb(runtimeBytes));
  return buf;
}

std::string requireTrainingFits(const TrainingMemoryEstimate& need, double totalBytes, double availableBytes,
                                const std::string& what) {
  char head[160];
  std::snprintf(head, sizeof head, "%s needs about ", what.c_str());
  if (totalBytes > 0 && need.totalBytes() > totalBytes) {
    char tail[160];
    std::snprintf(tail, sizeof tail, " for %.1fM parameters, but this machine has %.1f GB of memory",
                  need.parameters / 1e6, gb(totalBytes));
    // The larger share first: activations shrink with the batch, everything else with the model.
    const char* forActivations = "lower train.batch_size or model.max_seq_length";
    const char* forWeights = "make the model smaller (model.num_experts, model.embed_dim, model.num_layers)";
    const bool activationsDominate = need.activationsBytes > need.weightsBytes * 4;
    throw UserError(std::string(head) + need.describe() + tail + ": " +
                    (activationsDominate ? forActivations : forWeights) + ", or " +
                    (activationsDominate ? forWeights : forActivations) +
                    "; `moelab-cli params CONFIG` shows the estimate for any --set");
  }
  if (availableBytes > 0 && need.totalBytes() > availableBytes) {
    char buf[160];
    std::snprintf(buf, sizeof buf, " but only %.1f GB are available now: it may swap or be killed",
                  gb(availableBytes));
    return std::string("warning: ") + head + need.describe() + buf;
  }
  return "";
}

}  // namespace moelab
