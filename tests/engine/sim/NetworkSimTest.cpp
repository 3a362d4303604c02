#include <QtTest/QtTest>
#include <numeric>

#include "TestSuite.h"
#include "sim/AllToAllModel.h"
#include "sim/MaxMinFair.h"
#include "sim/Scenario.h"
#include "util/Errors.h"

using namespace moelab;
using namespace moelab::sim;

namespace {
Scenario scenario(nlohmann::json overrides) {
  nlohmann::json doc = {
      {"model",
       {{"num_experts", 64}, {"top_k", 2}, {"hidden", 4096}, {"tokens_per_gpu", 65536}, {"backward", false}}},
      {"sim", {{"steps", 3}}},
      {"compare", {{"strategies", nlohmann::json::array()}, {"placements", nlohmann::json::array()}}}};
  doc.merge_patch(overrides);
  return Scenario::fromJson(doc);
}

// nccl-tests convention: algbw = per-rank send bytes / time, busbw = algbw * (n - 1) / n.
double uniformBusBandwidthGBps(const std::string& preset, int nodes) {
  Scenario s = scenario({{"cluster", {{"preset", preset}, {"nodes", nodes}}}});
  const int n = s.cluster.gpus();
  AllToAllTraffic t;
  const double perRank = double(s.tokensPerGpu) * s.topK * double(s.hidden) * s.dispatchBytes;
  t.sourceBytes.assign(size_t(n), perRank);
  t.destShare.assign(size_t(n), 1.0 / n);
  double seconds = simulateAllToAll(s.cluster, t).seconds;
  return perRank / seconds * double(n - 1) / double(n) / 1e9;
}

double meanStep(const Scenario& s) {
  auto v = simulateStepTimes(s);
  return std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
}
}  // namespace

class NetworkSimTest : public QObject {
  Q_OBJECT
 private slots:
  void uniformTrafficReproducesNcclTestsPlateaus() {
    struct Case {
      const char* preset;
      int nodes;
      double busbw;
    } cases[] = {{"dgx-h100", 1, 370},  {"dgx-a100", 1, 230},  {"dgx-h100", 2, 90.9},
                 {"dgx-h100", 4, 62.6}, {"dgx-h100", 8, 54.6}, {"dgx-h100", 16, 51.3}};
    for (const auto& c : cases) {
      double got = uniformBusBandwidthGBps(c.preset, c.nodes);
      QVERIFY2(std::abs(got - c.busbw) / c.busbw <= 0.10,
               (std::string(c.preset) + " x" + std::to_string(c.nodes) + ": " + std::to_string(got)).c_str());
    }
  }
  void bytesSentEqualBytesReceived() {
    for (const char* kind : {"uniform", "zipf", "hot"}) {
      Scenario s =
          scenario({{"cluster", {{"nodes", 3}}}, {"traffic", {{"kind", kind}, {"source_variation", 0.3}}}});
      AllToAllTraffic t;
      std::mt19937_64 rng(3);
      std::uniform_real_distribution<double> u(1e6, 5e6);
      for (int g = 0; g < s.cluster.gpus(); ++g) t.sourceBytes.push_back(u(rng));
      t.destShare = std::vector<double>(size_t(s.cluster.gpus()), 0.0);
      for (auto& x : t.destShare) x = u(rng);
      double sum = std::accumulate(t.destShare.begin(), t.destShare.end(), 0.0);
      for (auto& x : t.destShare) x /= sum;
      for (const auto& traffic : {t, transposed(t, 0.5)}) {
        auto r = simulateAllToAll(s.cluster, traffic);
        double sent = std::accumulate(r.sentBytes.begin(), r.sentBytes.end(), 0.0);
        double received = std::accumulate(r.receivedBytes.begin(), r.receivedBytes.end(), 0.0);
        QVERIFY(std::abs(sent - received) <= 1e-9 * sent);
        QVERIFY(std::abs(sent - (r.intraBytes + r.interBytes)) <= 1e-9 * sent);
      }
    }
  }
  void completionGrowsWithImbalance() {
    double previous = 0;
    for (double ratio : {1.0, 2.0, 4.0, 8.0}) {
      Scenario s = scenario({{"cluster", {{"nodes", 2}}},
                             {"traffic", {{"kind", "hot"}, {"hot_max_over_mean", ratio}}},
                             {"model", {{"tokens_per_gpu", 4096}}}});
      double t = meanStep(s);
      QVERIFY2(t > previous, std::to_string(ratio).c_str());
      previous = t;
    }
  }
  void completionFallsWithBandwidth() {
    double previous = 1e300;
    for (double nic : {100.0, 200.0, 400.0, 800.0}) {
      double t = meanStep(scenario({{"cluster", {{"nodes", 4}, {"nic_gbit", nic}}}}));
      QVERIFY(t < previous);
      previous = t;
    }
    Scenario shared = scenario({{"cluster", {{"nodes", 4}, {"nics_per_node", 2}}}});
    Scenario oversub = scenario({{"cluster", {{"nodes", 4}, {"oversubscription", 2.0}}}});
    double dedicated = meanStep(scenario({{"cluster", {{"nodes", 4}}}}));
    QVERIFY(meanStep(shared) > 3.5 * dedicated);
    QVERIFY(meanStep(oversub) > 1.8 * dedicated);
  }
  void maxMinFairnessOnSharedLinks() {
    // f0 uses A; f1 uses A and B; f2 uses B. B (4) is the bottleneck of f1 and f2: 2 each; f0 gets A's rest.
    std::vector<FluidFlow> flows = {{1, {0}}, {1, {0, 1}}, {1, {1}}};
    auto r = maxMinFairRates(flows, {10, 4});
    QCOMPARE(r[1], 2.0);
    QCOMPARE(r[2], 2.0);
    QCOMPARE(r[0], 8.0);
    // One link: 1 and 3 bytes share 1 B/s: the small flow ends at 2 s, the big one then runs alone.
    auto done = fluidCompletionTimes({{1, {0}}, {3, {0}}}, {1.0});
    QVERIFY(std::abs(done[0] - 2.0) < 1e-9);
    QVERIFY(std::abs(done[1] - 4.0) < 1e-9);
  }
  void deterministicForASeed() {
    auto a = simulateStepTimes(scenario({{"traffic", {{"kind", "zipf"}, {"variation", 0.3}}},
                                         {"sim", {{"steps", 20}}},
                                         {"cluster", {{"nodes", 2}}}}));
    auto b = simulateStepTimes(scenario({{"traffic", {{"kind", "zipf"}, {"variation", 0.3}}},
                                         {"sim", {{"steps", 20}}},
                                         {"cluster", {{"nodes", 2}}}}));
    auto c = simulateStepTimes(scenario({{"traffic", {{"kind", "zipf"}, {"variation", 0.3}}},
                                         {"sim", {{"steps", 20}, {"seed", 9}}},
                                         {"cluster", {{"nodes", 2}}}}));
    QVERIFY(a == b);
    QVERIFY(a != c);
  }
  void replicationAndRebalancingHelpSkewedTraffic() {
    Scenario s = scenario({{"cluster", {{"nodes", 2}}},
                           {"traffic", {{"kind", "zipf"}, {"zipf_s", 1.2}}},
                           {"compare", {{"strategies", {"replicate_hot", "greedy_rebalance"}}}}});
    auto result = runScenario(s);
    const auto& rows = result["comparison"];
    QCOMPARE(rows.size(), size_t(4));
    double configured = rows[0]["mean_ms"], balanced = rows[1]["mean_ms"], replicated = rows[2]["mean_ms"];
    QVERIFY(configured > balanced);
    QVERIFY(replicated < configured);
    QCOMPARE(result["per_gpu"]["sent_bytes"].size(), size_t(16));
    QCOMPARE(result["traffic_matrix"]["bytes"].size(), size_t(16));
    QCOMPARE(result["step_ms"]["samples"].size(), size_t(3));
  }
  void scenarioErrorsNameThePath() {
    auto errorOf = [](nlohmann::json doc) -> QString {
      try {
        Scenario::fromJson(doc);
      } catch (const UserError& e) {
        return e.what();
      }
      return {};
    };
    QCOMPARE(errorOf({{"model", {{"num_experts", 0}}}}),
             QString("model.num_experts: expected integer in [1, 1e+06], got 0"));
    QVERIFY(errorOf({{"cluster", {{"nodez", 2}}}})
                .startsWith("cluster.nodez: unknown key (did you mean cluster.nodes?)"));
    QVERIFY(errorOf({{"cluster", {{"preset", "tpu"}}}}).startsWith("cluster.preset: expected one of"));
    QVERIFY(errorOf({{"placement", {{"kind", "custom"}, {"map", {0, 1}}}}})
                .startsWith("placement.map: expected 64 GPU"));
    QVERIFY(errorOf({{"placement", {{"kind", "custom"}, {"map", std::vector<int>(64, 9)}}}})
                .startsWith("placement.map[0]"));
    QVERIFY(errorOf({{"traffic", {{"kind", "counts"}, {"counts", {{1, 2, 3}}}}}})
                .startsWith("traffic.counts[0]: expected 64"));
    QVERIFY(errorOf({{"compare", {{"strategies", {"magic"}}}}}).startsWith("compare.strategies[0]"));
    QVERIFY(errorOf({{"cluster", {{"intra_efficiency", {{1e6, 1.5}}}}}})
                .startsWith("cluster.intra_efficiency[0]"));
    QVERIFY(errorOf({{"traffic", {{"kind", "hot"}, {"hot_max_over_mean", 100.0}}}})
                .startsWith("traffic.hot_max_over_mean"));
    std::vector<double> counts(64, 10.0);
    counts[5] = -3;
    QVERIFY(errorOf({{"traffic", {{"kind", "counts"}, {"counts", {counts}}}}})
                .startsWith("traffic.counts[0][5]: expected a token count >= 0"));
    QVERIFY(errorOf({{"placement", {{"replicate_hot", 65}}}})
                .startsWith("placement.replicate_hot: expected at most"));
    QVERIFY(errorOf({{"cluster", {{"nodes", 65536}, {"gpus_per_node", 64}}}})
                .contains("more than the simulator's"));
  }
};
MOELAB_TEST_SUITE(NetworkSimTest)
#include "NetworkSimTest.moc"
