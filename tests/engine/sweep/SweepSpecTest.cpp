#include <QtTest/QtTest>
#include <cmath>
#include <filesystem>

#include "TestSuite.h"
#include "sweep/SweepSpec.h"
#include "util/Errors.h"

using namespace moelab;

namespace {
nlohmann::json tinyBase() {
  return {{"model", {{"embed_dim", 32}, {"num_layers", 1}, {"num_heads", 4}, {"num_experts", 2}}},
          {"data", {{"tokenizer", "char"}}}};
}
SweepSpec spec(nlohmann::json params, nlohmann::json extra = nlohmann::json::object()) {
  nlohmann::json doc = {{"name", "t"}, {"base", tinyBase()}, {"parameters", std::move(params)}};
  doc.update(extra);
  return SweepSpec::fromJson(doc);
}
QString configError(const nlohmann::json& params, nlohmann::json extra = nlohmann::json::object()) {
  try {
    spec(params, extra);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return {};
}
}  // namespace

class SweepSpecTest : public QObject {
  Q_OBJECT
 private slots:
  void gridIsTheCartesianProductLastParameterFastest() {
    auto s = spec({{{"key", "model.num_experts"}, {"values", {2, 4}}},
                   {{"key", "train.learning_rate"}, {"values", {1e-3, 5e-4, 3e-4}}}});
    auto pts = expandSweep(s);
    QCOMPARE(pts.size(), size_t(6));
    QCOMPARE(pts[0].values["model.num_experts"].get<int>(), 2);
    QCOMPARE(pts[1].values["train.learning_rate"].get<double>(), 5e-4);
    QCOMPARE(pts[3].values["model.num_experts"].get<int>(), 4);
    QCOMPARE(pts[3].values["train.learning_rate"].get<double>(), 1e-3);
    for (const auto& p : pts) {
      QVERIFY(p.valid());
      // The point's config is the base with the swept values, validated (defaults filled in).
      QCOMPARE(p.config["model"]["num_experts"], p.values["model.num_experts"]);
      QCOMPARE(p.config["model"]["embed_dim"].get<int>(), 32);
      QVERIFY(p.config["train"].contains("seed"));
    }
  }
  void rangesAndCountedBoundsGiveTheirGrid() {
    auto s = spec({{{"key", "model.num_layers"}, {"range", {2, 8}}, {"step", 2}},
                   {{"key", "model.dropout"}, {"uniform", {0.0, 0.2}}, {"count", 3}},
                   {{"key", "train.learning_rate"}, {"log_uniform", {1e-4, 1e-2}}, {"count", 3}}});
    auto layers = s.params[0].gridValues(), drop = s.params[1].gridValues(), lr = s.params[2].gridValues();
    QCOMPARE(layers.size(), size_t(4));
    QCOMPARE(layers[3].get<int>(), 8);
    QVERIFY(layers[0].is_number_integer());  // an integer field gets integers
    QCOMPARE(drop[1].get<double>(), 0.1);
    QVERIFY(std::abs(lr[1].get<double>() - 1e-3) < 1e-12);  // log-spaced: the geometric middle
    QCOMPARE(expandSweep(s).size(), size_t(4 * 3 * 3));
  }
  void randomSearchIsDeterministicForASeedAndRespectsBounds() {
    nlohmann::json params = {{{"key", "train.learning_rate"}, {"log_uniform", {1e-5, 1e-1}}},
                             {{"key", "model.embed_dim"}, {"uniform", {30.0, 36.0}}},
                             {{"key", "model.num_experts"}, {"values", {2, 4, 8}}}};
    auto a = expandSweep(spec(params, {{"method", "random"}, {"samples", 400}, {"seed", 3}}));
    auto b = expandSweep(spec(params, {{"method", "random"}, {"samples", 400}, {"seed", 3}}));
    auto c = expandSweep(spec(params, {{"method", "random"}, {"samples", 400}, {"seed", 4}}));
    QCOMPARE(a.size(), size_t(400));
    int same = 0, belowGeoMean = 0;
    std::set<int> dims, experts;
    for (size_t i = 0; i < a.size(); ++i) {
      QCOMPARE(a[i].values, b[i].values);
      same += a[i].values == c[i].values;
      const double lr = a[i].values["train.learning_rate"].get<double>();
      QVERIFY(lr >= 1e-5 && lr <= 1e-1);
      belowGeoMean += lr < 1e-3;
      // An integer field drawn from real bounds is rounded and stays inside them.
      QVERIFY(a[i].values["model.embed_dim"].is_number_integer());
      dims.insert(a[i].values["model.embed_dim"].get<int>());
      experts.insert(a[i].values["model.num_experts"].get<int>());
    }
    QVERIFY(same < 5);  // another seed, other points
    // Log-uniform: half the draws fall below the geometric mean of the bounds (uniform would put ~1%).
    QVERIFY2(belowGeoMean > 160 && belowGeoMean < 240, qPrintable(QString::number(belowGeoMean)));
    QCOMPARE(*dims.begin(), 30);
    QCOMPARE(*dims.rbegin(), 36);
    QCOMPARE(experts, (std::set<int>{2, 4, 8}));
  }
  void invalidCombinationsCarryTheEnginesMessage() {
    // num_heads 4 does not divide 30 or 34.
    auto pts = expandSweep(spec({{{"key", "model.embed_dim"}, {"values", {30, 32, 34}}}}));
    QCOMPARE(pts.size(), size_t(3));
    QVERIFY(!pts[0].valid() && pts[1].valid() && !pts[2].valid());
    QVERIFY2(QString::fromStdString(pts[0].error)
                 .contains("model.num_heads: expected a divisor of model.embed_dim"),
             pts[0].error.c_str());
    QVERIFY(pts[0].config.is_null());
    // A value of the wrong type is the schema's message, for that point only.
    auto typed = expandSweep(spec({{{"key", "model.num_experts"}, {"values", {2, "many"}}}}));
    QVERIFY(typed[0].valid());
    QVERIFY(QString::fromStdString(typed[1].error).contains("model.num_experts"));
  }
  void specMistakesNameTheField() {
    QVERIFY(configError({{{"key", "model.num_expertz"}, {"values", {2}}}}).contains("not a config field"));
    QVERIFY(configError({{{"key", "model.dropout"}, {"uniform", {0.0, 0.2}}}}).contains("count"));
    QVERIFY(configError({{{"key", "train.learning_rate"}, {"log_uniform", {0.0, 1.0}}}, {"count", 2}})
                .isEmpty() == false);
    QVERIFY(configError({{{"key", "data.tokenizer"}, {"range", {1, 2}}}}).contains("numeric"));
    QVERIFY(configError({{{"key", "model.dropout"}, {"values", {0.1}}}}, {{"method", "random"}})
                .contains("samples"));
    QVERIFY(
        configError({{{"key", "model.dropout"}, {"values", {0.1}}}}, {{"goal", "lowest"}}).contains("goal"));
    QVERIFY(configError({{{"key", "model.dropout"}, {"values", {0.1}}}},
                        {{"early_stopping", {{"method", "asha"}}}})
                .contains("grace_steps"));
    QVERIFY(configError({{{"key", "model.dropout"}, {"values", {0.1}}},
                         {{"key", "model.dropout"}, {"values", {0.2}}}})
                .contains("twice"));
  }
  void specRoundTripsThroughJson() {
    auto s = spec({{{"key", "train.learning_rate"}, {"log_uniform", {1e-4, 1e-2}}}},
                  {{"method", "random"},
                   {"samples", 5},
                   {"seed", 9},
                   {"max_concurrent", 2},
                   {"early_stopping", {{"method", "median"}, {"grace_steps", 10}, {"min_runs", 2}}}});
    auto again = SweepSpec::fromJson(s.toJson());
    QCOMPARE(again.toJson(), s.toJson());
    QCOMPARE(expandSweep(again)[4].values, expandSweep(s)[4].values);
  }
  void seedPresetsExpandAsTheSeedRanThem() {
    const std::string dir = std::string(MOELAB_SOURCE_DIR) + "/experiments/sweeps";
    int files = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      auto s = SweepSpec::load(e.path().string());
      for (const auto& p : expandSweep(s)) QVERIFY2(p.valid(), (e.path().string() + ": " + p.error).c_str());
      ++files;
    }
    QVERIFY(files >= 16);
    QCOMPARE(expandSweep(SweepSpec::load(dir + "/seed-full-factorial-small.json")).size(), size_t(16));
    auto experts = SweepSpec::load(dir + "/seed-num-experts.json");
    QCOMPARE(experts.params[0].values, (nlohmann::json{2, 4, 8, 16}));
    QCOMPARE(experts.base["model"]["embed_dim"].get<int>(), 384);
    QCOMPARE(SweepSpec::load(dir + "/seed-learning-rate.json").params[0].values,
             (nlohmann::json{1e-3, 5e-4, 3e-4, 1e-4}));
  }
};

MOELAB_TEST_SUITE(SweepSpecTest)
#include "SweepSpecTest.moc"
