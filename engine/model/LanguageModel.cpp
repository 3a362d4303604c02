#include "model/LanguageModel.h"

#include <ATen/autocast_mode.h>

#include "model/FastDropout.h"
#include "model/FusedCrossEntropy.h"
#include "model/StackedNorm.h"

namespace moelab {

TransformerLayerImpl::TransformerLayerImpl(const ModelConfig& cfg, bool coupled) {
  blocks = register_module("blocks", ExpertBlockStack(coupled ? cfg.numExperts : 1, cfg));
  if (coupled) coupler = register_module("coupler", GnnCoupler(cfg.numExperts, cfg.embedDim, cfg.gnnLayers));
}

torch::Tensor TransformerLayerImpl::forward(const torch::Tensor& x) {
  auto outs = blocks(x);  // [E, N, D]
  if (!coupler) return outs[0].view_as(x);
  // One contiguous [N, E, D] copy: every GNN op (Linears, residual adds, their gradients) then runs
  // on dense rows instead of strided views (measured: ~0.3 s of a seed-config step).
  return x + coupler(outs.transpose(0, 1).contiguous()).view_as(x);
}

LanguageModelImpl::LanguageModelImpl(const ModelConfig& c, ExpertShard shard) : cfg(c) {
  const int64_t D = cfg.embedDim, V = cfg.paddedVocab();
  tokenEmbedding = register_module("token_embedding", torch::nn::Embedding(V, D));
  if (!cfg.rope())
    positionEmbedding = register_module("position_embedding", torch::nn::Embedding(cfg.maxSeqLength, D));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < cfg.numLayers; ++i) {
    if (cfg.architecture == "sparse_moe")
      layers->push_back(SparseTransformerLayer(cfg, (i + 1) % cfg.moeEvery == 0, shard));
    else
      layers->push_back(TransformerLayer(cfg, cfg.architecture == "gnn_moe"));
  }
  finalNormWeight = register_parameter("final_norm_weight", torch::ones({D}));
  if (!cfg.rmsNorm()) finalNormBias = register_parameter("final_norm_bias", torch::zeros({D}));
  if (!cfg.tieEmbeddings)
    head = register_module("head", torch::nn::Linear(torch::nn::LinearOptions(D, V).bias(cfg.bias)));

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

torch::Tensor LanguageModelImpl::headWeight() const {
  return head ? head->weight : tokenEmbedding->weight;
}

torch::Tensor LanguageModelImpl::forward(const torch::Tensor& tokens, const torch::Tensor& mask) {
  return logitsOf(hiddenStates(tokens, mask));
}

torch::Tensor LanguageModelImpl::hiddenStates(const torch::Tensor& tokens, const torch::Tensor& mask) {
  const int64_t T = tokens.size(1);
  // Flat indices of the real tokens, only when some positions are padding.
  torch::Tensor realTokens;
  if (mask.defined() && cfg.architecture == "sparse_moe" && !mask.all().item<bool>())
    realTokens = mask.reshape({-1}).nonzero().reshape({-1});
  if (cfg.architecture == "gnn_moe") {
    torch::Tensor rows;  // the coupling of padding is not what tokens see
    if (recordingCoupling_ && mask.defined() && !mask.all().item<bool>())
      rows = mask.reshape({-1}).nonzero().reshape({-1});
    for (const auto& layer : *layers)
      if (auto* l = layer->as<TransformerLayer>(); l && l->coupler)
        l->coupler->record(recordingCoupling_, rows);
  }
  auto x = tokenEmbedding(tokens);
  if (positionEmbedding) x = x + positionEmbedding(torch::arange(T, tokens.options())).unsqueeze(0);
  x = fastDropout(x, cfg.dropout, is_training());
  for (const auto& layer : *layers) {
    if (auto* sparse = layer->as<SparseTransformerLayer>())
      x = sparse->forward(x, realTokens);
    else
      x = layer->as<TransformerLayer>()->forward(x);
  }
  return cfg.rmsNorm()
             ? rmsNorm(x, finalNormWeight)
             : torch::layer_norm(x.to(finalNormWeight.scalar_type()), {cfg.embedDim}, finalNormWeight,
                                 finalNormBias, 1e-5);  // fp32 statistics under bf16 autocast
}

torch::Tensor LanguageModelImpl::logitsOf(const torch::Tensor& x) {
  auto logits = head ? head(x) : torch::matmul(x, tokenEmbedding->weight.t());
  return cfg.paddedVocab() == cfg.vocabSize ? logits : logits.narrow(-1, 0, cfg.vocabSize);
}

torch::Tensor LanguageModelImpl::lossOf(const torch::Tensor& hidden, const torch::Tensor& targets) {
  const auto flat = hidden.reshape({-1, hidden.size(-1)});
  const auto weight = headWeight();
  const auto bias = head ? head->bias : torch::Tensor();
  // Under bf16 autocast the head runs in bf16: the unfused path keeps that.
  if (!at::autocast::is_cpu_enabled() && fusedHeadCrossEntropySupported(flat, weight, bias))
    return fusedHeadCrossEntropy(flat, weight, bias, targets.reshape({-1}), cfg.vocabSize);
  return languageModelLoss(logitsOf(hidden), targets);
}

torch::Tensor LanguageModelImpl::auxiliaryLoss() const {
  torch::Tensor aux, z, imbalance;
  int64_t n = 0;
  const auto add = [](torch::Tensor& sum, const torch::Tensor& t) { sum = sum.defined() ? sum + t : t; };
  for (const auto& layer : *layers) {
    auto* sparse = layer->as<SparseTransformerLayer>();
    if (!sparse || !sparse->moe || !sparse->moe->lastAuxLoss.defined()) continue;
    add(aux, sparse->moe->lastAuxLoss);
    add(z, sparse->moe->lastZLoss);
    add(imbalance, sparse->moe->lastImbalanceLoss);  // its coefficients are applied in the router
    ++n;
  }
  if (n == 0) return {};
  return (cfg.auxLossCoef * aux + cfg.zLossCoef * z + imbalance) / double(n);  // averaged over MoE layers
}

void LanguageModelImpl::setExpertParallel(ExpertParallel* ep) {
  for (auto& layer : *layers)
    if (auto* sparse = layer->as<SparseTransformerLayer>(); sparse && sparse->moe)
      sparse->moe->setExpertParallel(ep);
}

bool LanguageModelImpl::expertParallel() const {
  for (const auto& layer : *layers)
    if (auto* sparse = layer->as<SparseTransformerLayer>();
        sparse && sparse->moe && sparse->moe->expertParallel)
      return true;
  return false;
}

std::vector<torch::Tensor> LanguageModelImpl::expertShards() const {
  std::vector<torch::Tensor> out;
  for (const auto& layer : *layers)
    if (auto* sparse = layer->as<SparseTransformerLayer>();
        sparse && sparse->moe && sparse->moe->experts->sharded())
      for (const auto* w : {&sparse->moe->experts->w1, &sparse->moe->experts->w3, &sparse->moe->experts->w2})
        out.push_back(*w);
  return out;
}

std::vector<RoutingStats> LanguageModelImpl::routingStats() const {
  std::vector<RoutingStats> out;
  for (const auto& layer : *layers)
    if (auto* sparse = layer->as<SparseTransformerLayer>(); sparse && sparse->moe)
      out.push_back(sparse->moe->lastStats);
  return out;
}

std::vector<RouterTopK> LanguageModelImpl::routers() const {
  std::vector<RouterTopK> out;
  for (const auto& layer : *layers)
    if (auto* sparse = layer->as<SparseTransformerLayer>(); sparse && sparse->moe)
      out.push_back(sparse->moe->router);
  return out;
}

void LanguageModelImpl::afterOptimizerStep() {
  for (auto& r : routers()) r->updateSelectionBias();
}

void LanguageModelImpl::setReassignment(const ReassignSpec& spec) {
  for (auto& r : routers()) r->setReassignment(spec);
}

void LanguageModelImpl::recordRoutingChoices(bool on) {
  for (auto& r : routers()) {
    r->recordChoices = on;
    if (!on) r->lastChosen = torch::Tensor();
  }
}

std::vector<torch::Tensor> LanguageModelImpl::lastRoutingChoices() const {
  std::vector<torch::Tensor> out;
  for (const auto& r : routers()) out.push_back(r->lastChosen);
  return out;
}

ParameterBreakdown LanguageModelImpl::parameterBreakdown() const {
  ParameterBreakdown b;
  for (const auto& p : named_parameters()) {
    int64_t n = p.value().numel();
    const std::string& key = p.key();
    // Expert parallel: a rank holds a slice of each layer's experts; the model's size is the whole.
    if (key.find(".moe.experts.") != std::string::npos && p.value().size(0) > 0)
      n = n / p.value().size(0) * cfg.numExperts;
    b.total += n;
    bool expert = (cfg.architecture == "gnn_moe" && key.find(".blocks.") != std::string::npos) ||
                  key.find(".moe.experts.") != std::string::npos ||
                  key.find(".moe.shared.") != std::string::npos;
    if (expert)
      b.experts += n;
    else if (key.find(".coupler.") != std::string::npos)
      b.gnnCoupling += n;
    else
      b.other += n;
  }
  return b;
}

std::vector<std::vector<torch::Tensor>> LanguageModelImpl::adjacencies() const {
  std::vector<std::vector<torch::Tensor>> out;
  for (const auto& layer : *layers) {
    auto* l = layer->as<TransformerLayer>();
    if (l && l->coupler) out.push_back(l->coupler->adjacencies());
  }
  return out;
}

std::vector<ExpertCoupling> LanguageModelImpl::lastCoupling() const {
  std::vector<ExpertCoupling> out;
  for (const auto& layer : *layers) {
    auto* l = layer->as<TransformerLayer>();
    if (!l || !l->coupler || !l->coupler->lastShare.defined()) continue;
    ExpertCoupling c;
    for (const auto& g : *l->coupler->gnn) {
      auto* conv = g->as<ExpertGraphConv>();
      c.effective.push_back(conv->lastEffective);
      c.spread.push_back(conv->lastSpread);
    }
    c.share = l->coupler->lastShare;
    out.push_back(std::move(c));
  }
  return out;
}

double LanguageModelImpl::forwardFlopsPerToken(int64_t T) const {
  return moelab::forwardFlopsPerToken(cfg, T);
}

torch::Tensor languageModelLoss(const torch::Tensor& logits, const torch::Tensor& targets) {
  // Under bf16 autocast the head's logits are bf16; the loss is taken in fp32 either way.
  const auto flat = logits.reshape({-1, logits.size(-1)});
  return fusedCrossEntropy(flat.scalar_type() == torch::kFloat ? flat : flat.to(torch::kFloat),
                           targets.reshape({-1}), -100);
}

}  // namespace moelab
