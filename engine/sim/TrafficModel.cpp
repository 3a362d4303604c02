#include "sim/TrafficModel.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "util/Errors.h"

namespace moelab::sim {
namespace {
void normalise(std::vector<double>& p) {
  double s = std::accumulate(p.begin(), p.end(), 0.0);
  for (auto& x : p) x /= s;
}
}  // namespace

double giniOf(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  double n = double(v.size()), total = std::accumulate(v.begin(), v.end(), 0.0), weighted = 0;
  if (total <= 0) return 0;
  for (size_t i = 0; i < v.size(); ++i) weighted += double(i + 1) * v[i];
  return 2.0 * weighted / (n * total) - (n + 1.0) / n;
}

std::vector<double> basePopularity(const TrafficSpec& s, int E, int layer, std::mt19937_64& rng) {
  std::vector<double> p(size_t(E), 1.0);
  if (s.kind == "uniform") {
  } else if (s.kind == "zipf") {
    for (int i = 0; i < E; ++i) p[size_t(i)] = 1.0 / std::pow(double(i + 1), s.zipfS);
  } else if (s.kind == "hot") {
    if (s.hotMaxOverMean < 1.0 || s.hotMaxOverMean > double(E))
      throw UserError("traffic.hot_max_over_mean: expected a number in [1, " + std::to_string(E) + "], got " +
                      std::to_string(s.hotMaxOverMean));
    p[0] = s.hotMaxOverMean;
    for (int i = 1; i < E; ++i) p[size_t(i)] = (double(E) - s.hotMaxOverMean) / double(E - 1);
  } else if (s.kind == "gini") {
    if (s.gini < 0 || s.gini >= 1.0 - 1.0 / E)
      throw UserError("traffic.gini: expected a number in [0, " + std::to_string(1.0 - 1.0 / E) + "), got " +
                      std::to_string(s.gini));
    // p_i proportional to exp(a * i / E); the Gini grows with a, so bisect for the target.
    double lo = 0, hi = 200;
    for (int it = 0; it < 100; ++it) {
      double a = 0.5 * (lo + hi);
      for (int i = 0; i < E; ++i) p[size_t(i)] = std::exp(a * double(i) / double(E));
      (giniOf(p) < s.gini ? lo : hi) = a;
    }
    for (int i = 0; i < E; ++i) p[size_t(i)] = std::exp(lo * double(E - 1 - i) / double(E));
  } else if (s.kind == "counts") {
    if (s.counts.empty())
      throw UserError("traffic.counts: expected per-layer arrays of tokens per expert, got []");
    const auto& c = s.counts[size_t(layer) % s.counts.size()];
    if (int(c.size()) != E)
      throw UserError("traffic.counts[" + std::to_string(size_t(layer) % s.counts.size()) + "]: expected " +
                      std::to_string(E) + " expert counts, got " + std::to_string(c.size()));
    for (size_t e = 0; e < c.size(); ++e)
      if (!(c[e] >= 0) || !std::isfinite(c[e]))
        throw UserError("traffic.counts[" + std::to_string(size_t(layer) % s.counts.size()) + "][" +
                        std::to_string(e) + "]: expected a token count >= 0, got " + std::to_string(c[e]));
    p = c;
    if (std::accumulate(p.begin(), p.end(), 0.0) <= 0) throw UserError("traffic.counts: all counts are zero");
    normalise(p);
    return p;  // measured: keep expert ids as they are
  } else {
    throw UserError("traffic.kind: expected one of uniform|zipf|hot|gini|counts, got \"" + s.kind + "\"");
  }
  normalise(p);
  if (s.shuffle) std::shuffle(p.begin(), p.end(), rng);
  return p;
}

std::vector<std::vector<double>> sourcePopularities(const TrafficSpec& s, int E, int layer, int gpus,
                                                    std::mt19937_64& rng) {
  if (!s.bySource()) return {basePopularity(s, E, layer, rng)};
  const size_t l = size_t(layer) % s.countsBySource.size();
  const std::string path = "traffic.counts_by_source[" + std::to_string(l) + "]";
  const auto& shards = s.countsBySource[l];
  if (shards.empty())
    throw UserError(path + ": expected one array of expert counts per source shard, got []");
  const size_t groups = std::min(shards.size(), size_t(std::max(1, gpus)));
  std::vector<std::vector<double>> p(groups, std::vector<double>(size_t(E), 0.0));
  for (size_t g = 0; g < shards.size(); ++g) {
    const std::string at = path + "[" + std::to_string(g) + "]";
    if (int(shards[g].size()) != E)
      throw UserError(at + ": expected " + std::to_string(E) + " expert counts, got " +
                      std::to_string(shards[g].size()));
    double total = 0;
    for (size_t e = 0; e < shards[g].size(); ++e) {
      const double c = shards[g][e];
      if (!(c >= 0) || !std::isfinite(c))
        throw UserError(at + "[" + std::to_string(e) + "]: expected a token count >= 0, got " +
                        std::to_string(c));
      p[g % groups][e] += c;
      total += c;
    }
    if (total <= 0)
      throw UserError(
          at + ": shard " + std::to_string(g) +
          " routed no tokens (profile with fewer shards than samples, or drop the per-shard counts)");
  }
  for (auto& q : p) normalise(q);
  return p;
}

std::string sourcesNote(const MeasuredTraffic& t, int gpus) {
  if (t.bySource.empty()) return "";
  const size_t S = t.bySource.front().size();
  const std::string n = std::to_string(S), G = std::to_string(gpus);
  if (S > size_t(gpus))
    return ", per shard: " + n + " shards folded onto " + G + " GPUs (shard s on GPU s mod " + G + ")";
  return ", per shard: " + n + " shards (GPU g routes like shard g mod " + n + ")";
}

std::vector<double> stepPopularity(const std::vector<double>& base, double variation, std::mt19937_64& rng) {
  if (variation <= 0) return base;
  std::normal_distribution<double> z(0.0, 1.0);
  std::vector<double> p(base.size());
  for (size_t i = 0; i < base.size(); ++i)
    p[i] = base[i] * std::exp(variation * z(rng) - 0.5 * variation * variation);
  normalise(p);
  return p;
}

}  // namespace moelab::sim
