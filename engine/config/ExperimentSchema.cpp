// The experiment schema: every hyperparameter of an experiment, with its default, range and help.
#include "config/ConfigSchema.h"

namespace moelab {
namespace {

ConfigField integer(std::string path, int64_t def, std::optional<double> min, std::optional<double> max,
                    std::string help, std::string appliesTo = "all") {
  return {std::move(path), FieldType::Integer,  def, min, max, false, {},
          std::move(help), std::move(appliesTo)};
}
ConfigField number(std::string path, double def, std::optional<double> min, std::optional<double> max,
                   std::string help, std::string appliesTo = "all") {
  return {std::move(path), FieldType::Number,   def, min, max, false, {},
          std::move(help), std::move(appliesTo)};
}
ConfigField positiveNumber(std::string path, double def, double max, std::string help) {
  return {std::move(path), FieldType::Number, def, 0.0, max, true, {}, std::move(help), "all"};
}
ConfigField choice(std::string path, std::string def, std::vector<std::string> choices, std::string help,
                   std::string appliesTo = "all") {
  return {std::move(path), FieldType::String,   def, {}, {}, false, std::move(choices),
          std::move(help), std::move(appliesTo)};
}

}  // namespace

const ConfigSchema& ConfigSchema::experiment() {
  static const ConfigSchema schema({
      choice("model.architecture", "gnn_moe", {"gnn_moe", "dense", "sparse_moe"},
             "gnn_moe: every expert is a transformer block, a GNN mixes their outputs; dense: one "
             "block per layer (baseline); sparse_moe: top-k routed SwiGLU experts"),
      integer("model.embed_dim", 256, 8, 16384, "hidden size D"),
      integer("model.num_layers", 4, 1, 256, "number of layers"),
      integer("model.num_heads", 8, 1, 256, "attention heads; must divide embed_dim"),
      integer("model.num_experts", 4, 1, {},
              "experts per layer (gnn_moe: each a full transformer block; sparse_moe: SwiGLU FFNs)",
              "gnn_moe, sparse_moe"),
      integer("model.gnn_layers", 2, 0, 16, "graph-convolution layers in each expert coupler", "gnn_moe"),
      number("model.dropout", 0.1, 0.0, 0.99,
             "dropout probability, applied to the embeddings and attention probabilities (all), then "
             "gnn_moe experts (the seed's block): FFN hidden activation and FFN output, not the "
             "attention output; dense: attention output, FFN hidden and FFN output; sparse_moe: "
             "attention output and FFN output"),
      integer("model.max_seq_length", 128, 2, 65536, "tokens per sample; size of the position table"),
      integer("model.vocab_size", 0, 0, 10000000,
              "0 = the tokenizer's vocabulary size; otherwise must be at least that size"),
      integer("model.vocab_pad_multiple", 1, 1, 4096,
              "pad the embedding/LM-head rows to a multiple of this (128 gives 50304 for GPT-2); padded "
              "logits are excluded from the loss"),
      integer("model.n_kv_heads", 0, 0, 256,
              "key/value heads for grouped-query attention (0 = num_heads); must divide num_heads"),
      choice("model.position", "learned", {"learned", "rope"},
             "learned: position embedding table; rope: rotary embeddings on q and k"),
      number("model.rope_theta", 10000.0, 1.0, {}, "RoPE base frequency"),
      {"model.qk_norm",
       FieldType::Boolean,
       false,
       {},
       {},
       false,
       {},
       "RMSNorm (eps 1e-5, learnable scale) on each head's queries and keys",
       "all"},
      choice("model.norm", "layernorm", {"layernorm", "rmsnorm"},
             "normalisation in blocks and before the head"),
      {"model.gated_attention",
       FieldType::Boolean,
       false,
       {},
       {},
       false,
       {},
       "G1 gated attention: sigmoid(x W_g) from the block input, applied elementwise to the attention "
       "output before the output projection",
       "all"},
      {"model.bias",
       FieldType::Boolean,
       true,
       {},
       {},
       false,
       {},
       "biases in attention and dense FFN projections (the seed has them); SwiGLU experts never do",
       "all"},
      {"model.tie_embeddings",
       FieldType::Boolean,
       false,
       {},
       {},
       false,
       {},
       "share the token-embedding matrix with the LM head (the head then has no bias)",
       "all"},
      integer("model.expert_intermediate_dim", 0, 0, {}, "SwiGLU expert width (0 = 4 x embed_dim)",
              "sparse_moe"),
      integer("model.top_k", 2, 1, {}, "experts per token", "sparse_moe"),
      integer("model.expert_parallel", 1, 1, 4096,
              "expert parallelism: each MoE layer's experts split across this many ranks, tokens exchanged "
              "with all-to-all (train --nproc with the same number; 1 = every rank computes every expert)",
              "sparse_moe"),
      number("model.capacity_factor", 1.25, 0.0, {},
             "training capacity per expert = ceil(k*T/E * factor); 0 = dropless", "sparse_moe"),
      number("model.eval_capacity_factor", 2.0, 0.0, {}, "capacity factor in evaluation; 0 = dropless",
             "sparse_moe"),
      choice(
          "model.drop_policy", "position", {"position", "probability"},
          "which over-capacity assignments are dropped: later tokens first, or lowest routing weight first",
          "sparse_moe"),
      number("model.router_jitter", 0.0, 0.0, 1.0,
             "training-only multiplicative noise on the router input, uniform in [1-eps, 1+eps]",
             "sparse_moe"),
      number("model.aux_loss_coef", 0.01, 0.0, {},
             "load-balancing loss weight. Loss = E * sum_i f_i * P_i averaged over MoE layers, f_i = share "
             "of the k*T assignments, P_i = mean router probability: 1.0 when uniform for any k "
             "(Hugging Face's f_i counts tokens, so its balanced value is k: theirs = k * ours)",
             "sparse_moe"),
      number("model.z_loss_coef", 1e-3, 0.0, {}, "router z-loss weight: mean((logsumexp(logits))^2)",
             "sparse_moe"),
      {"model.aux_free_balancing",
       FieldType::Boolean,
       false,
       {},
       {},
       false,
       {},
       "DeepSeek-V3 auxiliary-loss-free balancing: a per-expert bias used only to select experts, "
       "updated after each step by gamma * sign(mean load - load)",
       "sparse_moe"},
      number("model.aux_free_gamma", 1e-3, 0.0, {}, "bias update speed for aux_free_balancing", "sparse_moe"),
      number("model.gini_loss_coef", 0.0, 0.0, {},
             "weight of the soft Gini loss of the expert load P (P_i = mean router probability): "
             "sum_ij |P_i - P_j| / 2E; for fine-tuning toward balance (--init-from)",
             "sparse_moe"),
      number("model.variance_loss_coef", 0.0, 0.0, {},
             "weight of the load-variance loss mean_i (P_i - 1/E)^2", "sparse_moe"),
      number("model.cv_loss_coef", 0.0, 0.0, {},
             "weight of the squared coefficient of variation of the load, mean_i (E P_i - 1)^2",
             "sparse_moe"),
      number("model.entropy_loss_coef", 0.0, 0.0, {}, "weight of the load-entropy gap 1 - H(P) / ln E",
             "sparse_moe"),
      integer("model.shared_experts", 0, 0, 64, "SwiGLU experts every token passes through (added densely)",
              "sparse_moe"),
      integer("model.moe_every", 1, 1, 256, "MoE in every N-th layer (others use a dense SwiGLU FFN)",
              "sparse_moe"),

      choice("data.dataset", "wikitext-2", {"wikitext-2", "wikitext-103", "tinyshakespeare", "text"},
             "corpus; `text` reads data.path (.txt, or .jsonl with a \"text\" field)"),
      {"data.path",
       FieldType::String,
       "",
       {},
       {},
       false,
       {},
       "file for dataset=text (absolute, or relative to the data folder)",
       "all"},
      choice("data.wikitext_format", "tokens", {"tokens", "raw"},
             "WikiText files to read: wiki.*.tokens or wiki.*.raw"),
      choice(
          "data.tokenizer", "gpt2", {"gpt2", "word", "char"},
          "gpt2: GPT-2 byte-level BPE (needs gpt2-bpe data); word/char: vocabulary built from train split"),
      choice("data.sample_mode", "lines", {"lines", "packed"},
             "lines: each line longer than min_line_chars is one padded sample (seed-compatible); packed: "
             "contiguous blocks of max_seq_length tokens"),
      integer("data.min_line_chars", 30, 0, {}, "lines mode: keep lines with more characters than this"),
      integer("data.num_train_samples", 0, 0, {}, "cap on training samples (0 = all)"),
      integer("data.num_eval_samples", 0, 0, {}, "cap on validation/test samples (0 = all)"),

      integer("train.batch_size", 32, 1, 65536, "sequences per step"),
      positiveNumber("train.learning_rate", 5e-4, 10.0, "peak AdamW learning rate"),
      number("train.min_learning_rate", 1e-6, 0.0, 10.0, "cosine decay floor"),
      number("train.weight_decay", 0.01, 0.0, 10.0, "AdamW decoupled weight decay"),
      integer("train.epochs", 8, 1, 100000, "passes over the training samples"),
      integer("train.max_batches_per_epoch", 0, 0, {}, "cap on steps per epoch (0 = all batches)"),
      integer("train.max_steps", 0, 0, {}, "stop after this many steps in total (0 = no cap)"),
      integer("train.eval_every", 200, 0, {}, "evaluate every N steps (0 = only at the end of each epoch)"),
      integer("train.eval_batches", 0, 0, {},
              "validation batches per evaluation: a fixed, seeded subset drawn from across the split, the "
              "same at every evaluation (0 = the whole split); the end of a run always scores the whole "
              "split (val_full/*)"),
      integer("train.checkpoint_every", 0, 0, {},
              "also save `last` every N steps, besides evaluations (0 = only the time cadence)"),
      number("train.checkpoint_minutes", 10.0, 0.0, {},
             "also save `last` after this many minutes of training since the last save, so a killed run "
             "loses at most that much (0 = off)"),
      integer("train.warmup_steps", 0, 0, {}, "linear warm-up steps before cosine decay"),
      number("train.grad_clip", 1.0, 0.0, {}, "max global gradient norm (0 = no clipping)"),
      integer("train.seed", 42, 0, {}, "seed for initialisation, data order and dropout"),
      integer("train.log_every", 10, 1, {}, "record training metrics every N steps"),
      integer("train.threads", 0, 0, 1024, "torch intra-op threads (0 = all cores)"),
      choice("train.precision", "fp32", {"fp32", "bf16"},
             "fp32, or bf16: the forward pass autocast to bfloat16 (matmuls, attention) with fp32 master "
             "weights, optimizer and evaluation; needs a CPU with AVX-512 BF16 or AMX (refused elsewhere)"),
      {"train.expert_views",
       FieldType::Boolean,
       true,
       {},
       {},
       false,
       {},
       "store what the expert views show: per-expert token counts at every log step (sparse_moe), "
       "the effective expert coupling and output shares at every evaluation (gnn_moe)",
       "gnn_moe,sparse_moe"},

      {"loss.ignore_token_zero",
       FieldType::Boolean,
       false,
       {},
       {},
       false,
       {},
       "seed compatibility: also drop every target token 0 from the loss (GPT-2's \"!\"); pads are "
       "always masked",
       "all"},
  });
  return schema;
}

}  // namespace moelab
