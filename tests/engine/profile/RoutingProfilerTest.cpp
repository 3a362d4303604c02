#include <QtTest/QtTest>
#include <cmath>
#include <numeric>
#include <sstream>

#include "TestSuite.h"
#include "profile/ReassignmentStudy.h"
#include "profile/RoutingProfiler.h"
#include "train/Trainer.h"
#include "util/Errors.h"

using namespace moelab;

namespace {
ModelConfig sparse() {
  ModelConfig c{"sparse_moe", 16, 2, 2, 4, 0, 12, 40, 0.0};
  c.topK = 2;
  c.expertIntermediateDim = 16;
  c.evalCapacityFactor = 0;  // dropless: every assignment is counted and computed
  return c;
}
// Random samples whose rows end in padding of different lengths (pads must never be routed).
TokenSplit samples(int64_t n, int64_t T, int64_t vocab) {
  torch::manual_seed(5);
  TokenSplit s;
  s.inputs = torch::randint(vocab, {n, T}, torch::kLong);
  s.mask = torch::ones({n, T}, torch::kBool);
  for (int64_t i = 0; i < n; ++i) s.mask[i].slice(0, T - i % 4, T).fill_(false);
  s.targets = torch::randint(vocab, {n, T}, torch::kLong).masked_fill(s.mask.logical_not(), -100);
  s.numTargets = s.targets.ne(-100).sum().item<int64_t>();
  return s;
}
int64_t sum(const std::vector<int64_t>& v) {
  return std::accumulate(v.begin(), v.end(), int64_t(0));
}
}  // namespace

class RoutingProfilerTest : public QObject {
  Q_OBJECT
 private slots:
  void countsEveryRoutingDecisionOfRealTokens() {
    torch::manual_seed(1);
    LanguageModel model(sparse());
    const TokenSplit s = samples(10, 12, 40);
    ProfileOptions o;
    o.batchSize = 3;
    o.positionBuckets = 3;
    o.shards = 2;
    o.measureLoss = true;
    int64_t calls = 0;
    o.progress = [&](int64_t done, int64_t total) {
      ++calls;
      return done <= total;
    };
    const auto p = profileRouting(model, s, "test", o);
    const int64_t real = s.mask.sum().item<int64_t>();
    QCOMPARE(p.tokens, real);
    QCOMPARE(p.samples, int64_t(10));
    QCOMPARE(calls, int64_t(4));  // batches of 3, 3, 3, 1
    QCOMPARE(int64_t(p.layers.size()), int64_t(2));
    for (const auto& l : p.layers) {
      QCOMPARE(sum(l.counts), real * 2);  // k = 2 assignments per real token
      QCOMPARE(int64_t(l.byShard.size()), int64_t(2));
      QCOMPARE(int64_t(l.byPosition.size()), int64_t(3));
      for (int64_t e = 0; e < 4; ++e) {
        QCOMPARE(l.byShard[0][size_t(e)] + l.byShard[1][size_t(e)], l.counts[size_t(e)]);
        QCOMPARE(l.byPosition[0][size_t(e)] + l.byPosition[1][size_t(e)] + l.byPosition[2][size_t(e)],
                 l.counts[size_t(e)]);
      }
    }
    // Shard 0 holds rows 0, 2, 4, 6, 8: their real tokens, twice each.
    int64_t shard0 = 0;
    for (int64_t i = 0; i < 10; i += 2) shard0 += s.mask[i].sum().item<int64_t>();
    QCOMPARE(sum(p.layers[0].byShard[0]), 2 * shard0);
    // Position bucket 0 covers positions 0..3 of every row (always real here).
    QCOMPARE(sum(p.layers[0].byPosition[0]), int64_t(10 * 4 * 2));
    // The profile's loss is the evaluation loss on the same samples.
    const auto ev = evaluate(model, s, 4);
    QVERIFY(std::abs(p.loss - ev.loss) < 1e-5);
    // Routing alone (no LM head) records the same decisions and says the loss was not measured.
    o.measureLoss = false;
    const auto routingOnly = profileRouting(model, s, "test", o);
    QVERIFY(!routingOnly.lossMeasured && std::isnan(routingOnly.loss));
    for (size_t l = 0; l < p.layers.size(); ++l) {
      QCOMPARE(routingOnly.layers[l].counts, p.layers[l].counts);
      QCOMPARE(routingOnly.layers[l].byShard, p.layers[l].byShard);
    }
  }
  void strategiesChangeTheProfileAndTopKComesBack() {
    torch::manual_seed(2);
    LanguageModel model(sparse());
    {
      torch::NoGradGuard g;
      for (auto& p : model->named_parameters())
        if (p.key().find("router.weight") != std::string::npos) p.value().mul_(40);  // sharp, uneven routing
    }
    const TokenSplit s = samples(16, 12, 40);
    ProfileOptions o;
    o.measureLoss = true;
    const auto original = profileRouting(model, s, "valid", o);
    o.strategy = ReassignSpec::parse("round_robin");
    const auto rr = profileRouting(model, s, "valid", o);
    QCOMPARE(rr.strategy, std::string("round_robin"));
    QVERIFY(rr.mean().gini < original.mean().gini);
    QVERIFY(rr.mean().gini < 0.05);
    // Routing reverts to top-k after a profile with a strategy.
    o.strategy = {};
    const auto again = profileRouting(model, s, "valid", o);
    QCOMPARE(again.layers[0].counts, original.layers[0].counts);
    QCOMPARE(again.loss, original.loss);
  }
  void cancellingThrowsAndRestoresTheModel() {
    LanguageModel model(sparse());
    model->train();
    ProfileOptions o;
    o.strategy = ReassignSpec::parse("balanced");
    o.progress = [](int64_t, int64_t) { return false; };
    QVERIFY_THROWS_EXCEPTION(Cancelled, profileRouting(model, samples(4, 12, 40), "valid", o));
    QVERIFY(model->is_training());
    model->eval();
    QVERIFY(!model->lastRoutingChoices().empty());
    QVERIFY(!model->lastRoutingChoices()[0].defined());  // recording is off again
  }
  void gnnModelsReportTheirCoupling() {
    torch::manual_seed(3);
    LanguageModel model(ModelConfig{"gnn_moe", 16, 2, 2, 3, 2, 12, 40, 0.0});
    const auto p = profileRouting(model, samples(5, 12, 40), "valid", {});
    QVERIFY(p.layers.empty());
    QCOMPARE(int64_t(p.couplings.size()), int64_t(2));
    for (const auto& c : p.couplings) {
      QCOMPARE(int64_t(c.effective.size()), int64_t(2));  // gnn_layers
      QCOMPARE(int64_t(c.effective[0].size()), int64_t(3));
      QVERIFY(std::abs(std::accumulate(c.share.begin(), c.share.end(), 0.0) - 1.0) < 1e-6);
      for (const auto& row : c.spread[0])
        for (double v : row) QVERIFY(v >= 0);
    }
    QVERIFY_THROWS_EXCEPTION(UserError,
                             profileRouting(model, samples(2, 12, 40), "valid",
                                            ProfileOptions{8, 0, 0, ReassignSpec::parse("balanced"), {}}));
    LanguageModel dense(ModelConfig{"dense", 16, 1, 2, 1, 0, 12, 40, 0.0});
    QVERIFY_THROWS_EXCEPTION(UserError, profileRouting(dense, samples(2, 12, 40), "valid", {}));
  }
  void jsonAndCsvRoundTrip() {
    LanguageModel model(sparse());
    ProfileOptions o;
    o.shards = 2;
    const auto routingOnly = profileRouting(model, samples(6, 12, 40), "file:notes.txt", o);
    QVERIFY(routingOnly.toJson()["perplexity"].is_null());
    QVERIFY(!RoutingProfile::fromJson(routingOnly.toJson()).lossMeasured);
    o.measureLoss = true;
    const auto p = profileRouting(model, samples(6, 12, 40), "file:notes.txt", o);
    const auto back = RoutingProfile::fromJson(nlohmann::json::parse(p.toJson().dump()));
    QVERIFY(back.lossMeasured);
    QCOMPARE(back.source, std::string("file:notes.txt"));
    QCOMPARE(back.layers[1].counts, p.layers[1].counts);
    QCOMPARE(back.layers[1].byShard, p.layers[1].byShard);
    QCOMPARE(back.perplexity, p.perplexity);
    QVERIFY_THROWS_EXCEPTION(UserError, RoutingProfile::fromJson(nlohmann::json{{"format", "other"}}));
    std::ostringstream csv;
    p.writeCsv(csv);
    const std::string text = csv.str();
    QVERIFY(text.rfind("layer,expert,assignments,fraction,shard_0,shard_1\n0,0,", 0) == 0);
    QCOMPARE(int64_t(std::count(text.begin(), text.end(), '\n')), int64_t(1 + 2 * 4));
  }
  void reassignmentStudyPutsEveryStrategyBesideTopK() {
    torch::manual_seed(4);
    LanguageModel model(sparse());
    ReassignmentStudy study;
    study.strategies = {ReassignSpec::parse("balanced"), ReassignSpec::parse("round_robin")};
    study.scenarioDoc = {{"cluster", {{"preset", "dgx-h100"}, {"nodes", 1}}}, {"sim", {{"steps", 5}}}};
    const auto table = runReassignmentStudy(model, samples(8, 12, 40), "valid", study);
    const auto& rows = table["rows"];
    QCOMPARE(int(rows.size()), 3);
    QCOMPARE(rows[0]["strategy"].get<std::string>(), std::string("none"));
    QCOMPARE(rows[0]["perplexity_change"].get<double>(), 0.0);
    QVERIFY(rows[0]["alltoall_ms"].get<double>() > 0);
    QVERIFY(rows[2]["gini"].get<double>() <= rows[0]["gini"].get<double>());
    std::ostringstream csv;
    writeReassignmentCsv(csv, table);
    QVERIFY(csv.str().rfind("strategy,perplexity,perplexity_change,", 0) == 0);
    LanguageModel gnn(ModelConfig{"gnn_moe", 16, 1, 2, 3, 1, 12, 40, 0.0});
    QVERIFY_THROWS_EXCEPTION(UserError, runReassignmentStudy(gnn, samples(2, 12, 40), "valid", study));
  }
};

MOELAB_TEST_SUITE(RoutingProfilerTest)
#include "RoutingProfilerTest.moc"
