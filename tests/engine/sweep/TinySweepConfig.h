#pragma once
#include <nlohmann/json.hpp>

// A gnn_moe small enough for a sweep of several runs in seconds (char tokenizer, evaluations every
// 4 steps, a checkpoint every 2).
inline nlohmann::json tinySweepBase(int64_t steps) {
  return {{"model",
           {{"embed_dim", 32},
            {"num_layers", 1},
            {"num_heads", 4},
            {"num_experts", 2},
            {"gnn_layers", 1},
            {"max_seq_length", 32},
            {"dropout", 0.0}}},
          {"data", {{"tokenizer", "char"}, {"num_train_samples", 300}, {"num_eval_samples", 16}}},
          {"train",
           {{"batch_size", 8},
            {"max_steps", steps},
            {"eval_every", 4},
            {"eval_batches", 2},
            {"log_every", 1},
            {"warmup_steps", 0},
            {"checkpoint_every", 2},
            {"learning_rate", 3e-3},
            {"min_learning_rate", 1e-9}}}};
}
