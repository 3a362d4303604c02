#include "model/LanguageModel.h"

#include "model/FastDropout.h"

namespace moelab {

TransformerLayerImpl::TransformerLayerImpl(const ModelConfig& cfg, bool coupled) {
  blocks = register_module("blocks", ExpertBlockStack(coupled ? cfg.numExperts : 1, cfg.embedDim,
                                                      cfg.numHeads, cfg.dropout));
  if (coupled) coupler = register_module("coupler", GnnCoupler(cfg.numExperts, cfg.embedDim, cfg.gnnLayers));
}

torch::Tensor TransformerLayerImpl::forward(const torch::Tensor& x) {
  auto outs = blocks(x);  // [E, N, D]
  if (!coupler) return outs[0].view_as(x);
  return x + coupler(outs.transpose(0, 1)).view_as(x);
}

LanguageModelImpl::LanguageModelImpl(const ModelConfig& c) : cfg(c) {
  const bool coupled = cfg.architecture == "gnn_moe";
  tokenEmbedding = register_module("token_embedding", torch::nn::Embedding(cfg.vocabSize, cfg.embedDim));
  positionEmbedding = register_module("position_embedding", torch::nn::Embedding(cfg.maxSeqLength, cfg.embedDim));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < cfg.numLayers; ++i) layers->push_back(TransformerLayer(cfg, coupled));
  finalNorm = register_module("final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({cfg.embedDim})));
  head = register_module("head", torch::nn::Linear(cfg.embedDim, cfg.vocabSize));

  torch::NoGradGuard noGrad;
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* lin = m->as<torch::nn::Linear>()) {
      lin->weight.normal_(0.0, 0.02);
      if (lin->bias.defined()) lin->bias.zero_();
    } else if (auto* emb = m->as<torch::nn::Embedding>()) {
      emb->weight.normal_(0.0, 0.02);
    }
  }
}

torch::Tensor LanguageModelImpl::forward(const torch::Tensor& tokens) {
  const int64_t T = tokens.size(1);
  auto pos = torch::arange(T, tokens.options());
  auto x = fastDropout(tokenEmbedding(tokens) + positionEmbedding(pos).unsqueeze(0), cfg.dropout, is_training());
  for (const auto& layer : *layers) x = layer->as<TransformerLayer>()->forward(x);
  return head(finalNorm(x));
}

ParameterBreakdown LanguageModelImpl::parameterBreakdown() const {
  ParameterBreakdown b;
  for (const auto& p : named_parameters()) {
    int64_t n = p.value().numel();
    b.total += n;
    const std::string& key = p.key();
    if (cfg.architecture == "gnn_moe" && key.find(".blocks.") != std::string::npos) b.experts += n;
    else if (key.find(".coupler.") != std::string::npos) b.gnnCoupling += n;
    else b.other += n;
  }
  return b;
}

std::vector<std::vector<torch::Tensor>> LanguageModelImpl::adjacencies() const {
  std::vector<std::vector<torch::Tensor>> out;
  for (const auto& layer : *layers) {
    auto* l = layer->as<TransformerLayer>();
    if (l->coupler) out.push_back(l->coupler->adjacencies());
  }
  return out;
}

double LanguageModelImpl::forwardFlopsPerToken(int64_t T) const {
  const double D = double(cfg.embedDim), V = double(cfg.vocabSize);
  const double E = cfg.architecture == "gnn_moe" ? double(cfg.numExperts) : 1.0;
  // Per expert block: QKV 3D^2, out D^2, FFN 8D^2 weights (2 FLOPs each) + attention scores and
  // context, 2*T*D each at full length (causal halves the useful part; counted in full as is usual).
  double block = 2.0 * 12.0 * D * D + 2.0 * 2.0 * T * D;
  double coupler = 0.0;
  if (cfg.architecture == "gnn_moe")
    coupler = cfg.gnnLayers * (E * 2.0 * 2.0 * D * D + 2.0 * E * E * D + 2.0 * 2.0 * E * D) + 2.0 * D * D;
  return cfg.numLayers * (E * block + coupler) + 2.0 * D * V;
}

torch::Tensor languageModelLoss(const torch::Tensor& logits, const torch::Tensor& targets) {
  return torch::nn::functional::cross_entropy(
      logits.reshape({-1, logits.size(-1)}), targets.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
}

}  // namespace moelab
