#include <QtTest/QtTest>
#include <nlohmann/json.hpp>

#include "TestSuite.h"
#include "engine/cli/CliHarness.h"

// profile, reassign, eval (strided, stored), simulate --traffic-from-profile and train --init-from,
// through the real binary on one tiny sparse run.
class AnalysisCliTest : public CliHarness {
  Q_OBJECT
  nlohmann::json json(const Result& r) {
    if (r.code != 0) qWarning("%s", qPrintable(r.err));
    return nlohmann::json::parse(r.out.toStdString(), nullptr, false);
  }
 private slots:
  void initTestCase() {
    auto t = trainTinySparseRun("a.db");
    QVERIFY2(t.code == 0, qPrintable(t.err));
  }
  void profileIsStoredExportedAndSimulated() {
    auto r = cli({"profile", "--run", "1", "--split", "valid", "--shards", "2", "--positions", "4", "--csv",
                  "p.csv", "--perplexity", "--json", "--db", "a.db"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const auto p = json(r);
    QCOMPARE(p["layers"].size(), size_t(2));
    QCOMPARE(p["samples"].get<int>(), 24);
    int64_t total = 0;
    for (auto c : p["layers"][0]["counts"]) total += c.get<int64_t>();
    QCOMPARE(total, 2 * p["tokens"].get<int64_t>());
    QCOMPARE(p["layers"][0]["by_shard"].size(), size_t(2));
    QVERIFY(p["layers"][0]["metrics"].contains("gini"));
    QVERIFY(p["perplexity"].get<double>() > 1);
    QVERIFY(fileBytes("p.csv").startsWith("layer,expert,assignments,fraction,position_0,"));
    const int64_t id = p["profile_id"].get<int64_t>();

    auto text = cli({"profile", "--run", "1", "--no-store", "--db", "a.db"});
    QVERIFY2(text.code == 0 && text.out.contains("gini") && text.out.contains("mean"), qPrintable(text.out));
    QVERIFY2(text.out.contains("perplexity not measured"), qPrintable(text.out));

    writeConfig("sc.json", R"({"cluster": {"preset": "dgx-h100", "nodes": 1}, "sim": {"steps": 5}})");
    auto sim =
        cli({"simulate", "sc.json", "--traffic-from-profile", QString::number(id), "--json", "--db", "a.db"});
    QVERIFY2(sim.code == 0, qPrintable(sim.err));
    QVERIFY(sim.err.contains("traffic: profile " + QString::number(id)));
    QCOMPARE(json(sim)["scenario"]["model"]["num_experts"].get<int>(), 4);
    // The profile's two shards route as themselves: GPUs 0, 2, 4, 6 like shard 0, the others like 1.
    QVERIFY2(sim.err.contains("per shard: 2 shards (GPU g routes like shard g mod 2)"), qPrintable(sim.err));
    QCOMPARE(json(sim)["traffic_sources"].get<int>(), 2);
    const auto bySource = json(sim)["scenario"]["traffic"]["counts_by_source"];
    QCOMPARE(bySource.size(), size_t(2));
    for (size_t e = 0; e < 4; ++e)
      QCOMPARE(bySource[0][0][e].get<double>() + bySource[0][1][e].get<double>(),
               p["layers"][0]["counts"][e].get<double>());
    auto missing = cli({"simulate", "sc.json", "--traffic-from-profile", "999", "--db", "a.db"});
    QCOMPARE(missing.code, 2);
    QVERIFY(missing.err.contains("no routing profile with id 999"));
  }
  void reassignTabulatesStrategiesBesideTopK() {
    auto r =
        cli({"reassign", "--run", "1", "--strategies", "balanced,round_robin,topk_filtered:4", "--cluster",
             "dgx-h100", "--set", "sim.steps=5", "--csv", "r.csv", "--json", "--db", "a.db"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const auto t = json(r);
    QCOMPARE(t["rows"].size(), size_t(4));
    QCOMPARE(t["rows"][0]["strategy"].get<std::string>(), std::string("none"));
    QVERIFY(t["rows"][2]["gini"].get<double>() < t["rows"][0]["gini"].get<double>() + 1e-9);
    QVERIFY(t["rows"][1]["alltoall_ms"].get<double>() > 0);
    QVERIFY(t.contains("reassignment_id"));
    QVERIFY(fileBytes("r.csv").startsWith("strategy,perplexity,"));
    auto bad = cli({"reassign", "--run", "1", "--strategies", "sideways", "--db", "a.db"});
    QCOMPARE(bad.code, 2);
    QVERIFY(bad.err.contains("unknown reassignment strategy \"sideways\""));
  }
  void stridedEvaluationIsStoredWithTheRun() {
    auto r = cli({"eval", "--run", "1", "--mode", "strided", "--context", "32", "--stride", "16", "--json",
                  "--db", "a.db"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const auto e = json(r);
    QCOMPARE(e["stride"].get<int>(), 16);
    QCOMPARE(e["tokens"].get<int64_t>(), e["stream_tokens"].get<int64_t>() - 1);
    QVERIFY(e.contains("evaluation_id"));
    auto bad = cli({"eval", "--run", "1", "--mode", "strided", "--stride", "64", "--db", "a.db"});
    QCOMPARE(bad.code, 2);
    QVERIFY(bad.err.contains("stride 64 must be between 1 and the context length"));
  }
  void fineTuningFromARunIsComparedWithItsParent() {
    auto bad =
        cli({"train", "sparse.json", "--init-from", "1", "--set", "model.num_experts=8", "--db", "a.db"});
    QCOMPARE(bad.code, 2);
    QVERIFY2(bad.err.contains("model.num_experts (4 -> 8)"), qPrintable(bad.err));
    auto t = cli({"train", "sparse.json", "--init-from", "1", "--set", "model.gini_loss_coef=0.5",
                  "--max-steps", "4", "--db", "a.db"});
    QVERIFY2(t.code == 0, qPrintable(t.err));
    QVERIFY(t.err.contains("initialised from run 1's weights"));
    auto show = cli({"runs", "show", "2", "--json", "--db", "a.db"});
    QVERIFY2(show.out.contains("init_from.run"), qPrintable(show.out));
    auto p = cli({"profile", "--run", "2", "--perplexity", "--db", "a.db"});
    QVERIFY2(p.code == 0, qPrintable(p.err));
    static const QRegularExpression versus(
        "versus parent run 1: Gini [0-9.]+ -> [0-9.]+ \\([^)]*\\), "
        "perplexity [0-9.]+ -> [0-9.]+");
    QVERIFY2(versus.match(p.out).hasMatch(), qPrintable(p.out));
  }
};

MOELAB_TEST_SUITE(AnalysisCliTest)
#include "AnalysisCliTest.moc"
