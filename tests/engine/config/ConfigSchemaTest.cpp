#include <QtTest/QtTest>

#include "TestSuite.h"
#include "config/ConfigSchema.h"
#include "config/ExperimentConfig.h"
#include "util/Errors.h"

using namespace moelab;

class ConfigSchemaTest : public QObject {
  Q_OBJECT
  static QString errorOf(const nlohmann::json& doc) {
    try {
      ExperimentConfig::fromJson(doc);
    } catch (const ConfigError& e) {
      return QString::fromStdString(e.what());
    }
    return {};
  }

 private slots:
  void duplicateKeysAndFoldersAreRefused() {
    QTemporaryDir dir;
    QFile f(dir.path() + "/dup.json");
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"({"model": {"num_experts": 8, "embed_dim": 64, "num_experts": 2}, "train": {"seed": 1}})");
    f.close();
    try {
      ExperimentConfig::load(f.fileName().toStdString());
      QFAIL("expected ConfigError");
    } catch (const ConfigError& e) {
      QVERIFY2(QString(e.what()).contains("model.num_experts is given more than once"), e.what());
    }
    try {
      ExperimentConfig::load(dir.path().toStdString());
      QFAIL("expected ConfigError");
    } catch (const ConfigError& e) {
      QVERIFY2(QString(e.what()).contains("is a folder, not a JSON file"), e.what());
    }
    // The same key in two sections is fine.
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(R"({"model": {"dropout": 0.0}, "train": {"seed": 3}, "data": {"tokenizer": "char"}})");
    f.close();
    QCOMPARE(ExperimentConfig::load(f.fileName().toStdString()).train.seed, int64_t(3));
  }
  void rangeErrorNamesPathExpectationAndValue() {
    QCOMPARE(errorOf({{"model", {{"num_experts", 0}}}}),
             QString("model.num_experts: expected integer >= 1, got 0"));
  }
  void wrongTypeIsAnError() {
    QCOMPARE(errorOf({{"model", {{"embed_dim", "256"}}}}),
             QString("model.embed_dim: expected integer in [8, 16384], got \"256\" (string)"));
    QVERIFY(errorOf({{"train", {{"batch_size", 2.5}}}}).startsWith("train.batch_size: expected integer"));
    QVERIFY(errorOf({{"loss", {{"ignore_token_zero", 1}}}})
                .startsWith("loss.ignore_token_zero: expected boolean"));
  }
  void unknownKeysAndSectionsAreErrors() {
    QCOMPARE(errorOf({{"model", {{"num_expert", 4}}}}),
             QString("model.num_expert: unknown key (did you mean model.num_experts?)"));
    QVERIFY(errorOf({{"modle", {{"embed_dim", 4}}}}).startsWith("modle: unknown section"));
    QVERIFY(errorOf({{"data", {{"tokenizer", "bpe"}}}}).contains("expected one of gpt2|word|char"));
  }
  void crossFieldRules() {
    QVERIFY(errorOf({{"model", {{"embed_dim", 100}, {"num_heads", 8}}}}).startsWith("model.num_heads"));
  }
  void defaultsRoundTrip() {
    auto cfg = ExperimentConfig::fromJson(nlohmann::json::object());
    QCOMPARE(cfg.model.embedDim, int64_t(256));
    QCOMPARE(cfg.train.learningRate, 5e-4);
    auto again = ExperimentConfig::fromJson(cfg.json);
    QCOMPARE(again.json, cfg.json);
    // Every schema field appears in the filled document.
    for (const auto& f : ConfigSchema::experiment().fields())
      QVERIFY(cfg.json[f.section()].contains(f.key()));
  }
  void setOverridesParseByType() {
    nlohmann::json doc = nlohmann::json::object();
    const auto& s = ConfigSchema::experiment();
    s.applyOverride(doc, "model.num_experts=8");
    s.applyOverride(doc, "train.learning_rate=3e-4");
    s.applyOverride(doc, "loss.ignore_token_zero=true");
    s.applyOverride(doc, "data.sample_mode=packed");
    auto cfg = ExperimentConfig::fromJson(doc);
    QCOMPARE(cfg.model.numExperts, int64_t(8));
    QCOMPARE(cfg.train.learningRate, 3e-4);
    QVERIFY(cfg.train.ignoreTokenZero);
    QCOMPARE(QString::fromStdString(cfg.data.sampleMode), QString("packed"));
    QVERIFY_THROWS_EXCEPTION(ConfigError, s.applyOverride(doc, "model.num_experts=eight"));
    QVERIFY_THROWS_EXCEPTION(ConfigError, s.applyOverride(doc, "model.num_experts=0"));
    QVERIFY_THROWS_EXCEPTION(ConfigError, s.applyOverride(doc, "model.bogus=1"));
    QVERIFY_THROWS_EXCEPTION(ConfigError, s.applyOverride(doc, "novalue"));
    for (const char* nonFinite : {"model.dropout=nan", "train.learning_rate=inf", "train.grad_clip=-inf"}) {
      try {
        s.applyOverride(doc, nonFinite);
        QFAIL(nonFinite);
      } catch (const ConfigError& e) {  // not "got null": JSON has no NaN
        QVERIFY2(QString(e.what()).contains("finite number") && !QString(e.what()).contains("null"),
                 e.what());
      }
    }
  }
  void presetsValidate() {
    for (const char* p :
         {"quickstart.json", "seed-default.json", "seed-sweep-baseline.json", "dense-baseline.json"})
      ExperimentConfig::load(std::string(MOELAB_SOURCE_DIR) + "/experiments/" + p);
  }
  void helpListsEveryKey() {
    std::string help = ConfigSchema::experiment().helpText();
    for (const auto& f : ConfigSchema::experiment().fields())
      QVERIFY2(help.find(f.path) != std::string::npos, f.path.c_str());
  }
};
MOELAB_TEST_SUITE(ConfigSchemaTest)
#include "ConfigSchemaTest.moc"
