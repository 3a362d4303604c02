#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace moelab {

// An inference-time change of which experts tokens go to, applied through the router without
// touching any weight. The mixing weights stay the router's own probabilities of the experts
// actually chosen, renormalised per token.
//   none           the trained top-k
//   balanced       load-aware: tokens in order of router confidence keep their best experts while
//                  those have room; an expert's fair share is ceil(k N / E) assignments, and an
//                  assignment over it moves to the token's next-best expert with room (never over
//                  the fair share: experts that every remaining token must use are taken first)
//   round_robin    assignment a goes to expert (a mod E), continuing across batches
//   random         k distinct experts uniformly at random per token (seeded)
//   topk_filtered  among the token's top-m experts by score, the k least loaded so far
//   temperature    k experts sampled without replacement from softmax(logits / T) (Gumbel top-k);
//                  T -> 0 is the trained top-k, large T approaches random
struct ReassignSpec {
  std::string strategy = "none";
  int64_t topM = 0;          // topk_filtered (0: 2k, at most E)
  double temperature = 2.0;  // temperature
  uint64_t seed = 1234;      // random, temperature

  static const std::vector<std::string>& strategies();
  // "balanced", "topk_filtered:4", "temperature:1.5", "random:7" (the number sets m, T or the seed).
  // Throws UserError naming the accepted forms.
  static ReassignSpec parse(const std::string& text);
  bool active() const { return strategy != "none"; }
  std::string label() const;  // parse(label()) gives this spec back
  // Throws UserError when the strategy cannot run on E experts with top-k (e.g. m < k).
  void validate(int64_t experts, int64_t k) const;
  int64_t candidates(int64_t experts, int64_t k) const;  // topk_filtered's m
};

// Applies a strategy to one layer's routing. Keeps the state strategies carry across batches.
class RouteReassigner {
 public:
  explicit RouteReassigner(ReassignSpec spec = {});
  const ReassignSpec& spec() const { return spec_; }
  // scores [N, E] fp32 (the router's selection scores), logits [N, E] -> chosen experts [N, k]
  // int64, each row distinct, best score first.
  torch::Tensor choose(const torch::Tensor& scores, const torch::Tensor& logits, int64_t k);

 private:
  torch::Tensor balanced(const torch::Tensor& scores, int64_t k) const;
  torch::Tensor leastLoadedOfTopM(const torch::Tensor& scores, int64_t k) const;
  torch::Tensor gumbelTopK(const torch::Tensor& logits, double temperature, int64_t k);
  ReassignSpec spec_;
  int64_t cursor_ = 0;  // round_robin
  std::mt19937_64 rng_;
};

}  // namespace moelab
