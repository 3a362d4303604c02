#include <QtTest/QtTest>
#include <cstdlib>

#include "TestSuite.h"
#include "data/LmDataset.h"
#include "data/TextCorpus.h"
#include "data/VocabTokenizer.h"
#include "util/Errors.h"

using namespace moelab;

class LmDatasetTest : public QObject {
  Q_OBJECT
  static ExperimentConfig config(nlohmann::json data) {
    return ExperimentConfig::fromJson({{"model", {{"max_seq_length", 32}}}, {"data", data}});
  }
 private slots:
  void missingDataNamesEveryPathAndTheFetchCommand() {
    QTemporaryDir empty;
    qputenv("MOELAB_DATA_DIR", (empty.path() + "/env").toUtf8());
    qputenv("HOME", (empty.path() + "/home").toUtf8());
    qunsetenv("XDG_DATA_HOME");
    DataLocator locator((empty.path() + "/cli").toStdString());
    try {
      LmDataset::load(config({{"num_train_samples", 4}}), locator);
      QFAIL("expected DataError");
    } catch (const DataError& e) {
      QString msg = e.what();
      QVERIFY(msg.contains(empty.path() + "/cli/wikitext-2/wiki.train.tokens"));
      QVERIFY(msg.contains(empty.path() + "/env/wikitext-2"));
      QVERIFY(msg.contains(empty.path() + "/home/.local/share/moelab/data/wikitext-2"));
      QVERIFY(msg.contains("moelab-cli data fetch wikitext-2"));
    }
    qunsetenv("MOELAB_DATA_DIR");
  }
  void linesModePadsAreMaskedAndProvenanceRecorded() {
    DataLocator locator(test::dataDir().toStdString());
    auto ds = LmDataset::load(config({{"num_train_samples", 50}, {"num_eval_samples", 10}}), locator);
    QCOMPARE(ds.train.size(), int64_t(50));
    QCOMPARE(ds.valid.size(), int64_t(10));
    // Wherever the input is padding, the target is masked.
    auto padded = ds.train.inputs.eq(ds.tokenizer->padId());
    QVERIFY(ds.train.targets.masked_select(padded).eq(-100).all().item<bool>());
    QCOMPARE(ds.train.numTargets, ds.train.targets.ne(-100).sum().item<int64_t>());
    QCOMPARE(ds.provenance["files"].size(), size_t(3));
    QCOMPARE(QString::fromStdString(ds.provenance["files"][0]["sha256"]),
             QString("9e9fa1ad55b1c2c95b08e37dd8e653f638fac2c6de904b79e813611eefbc985f"));
    QCOMPARE(ds.provenance["splits"]["train"]["samples"].get<int64_t>(), int64_t(50));
  }
  void tokenZeroIsOnlyDroppedBehindTheCompatibilityFlag() {
    VocabTokenizer tok = VocabTokenizer::build(VocabTokenizer::Unit::Char, {"ab"});
    DataConfig dc = config(nlohmann::json::object()).data;
    dc.minLineChars = 0;
    auto keep = LmDataset::tokenize({"abab"}, tok, dc, 8, 0, false);
    // "abab" -> 4 tokens, 3 targets; the model never sees id 0 as a real token here, so use packed ids.
    QCOMPARE(keep.numTargets, int64_t(3));
    // A tokenizer whose real tokens include id 0 (GPT-2's "!"): the flag drops them, the default keeps them.
    auto gpt2 = LmDataset::gpt2(DataLocator(test::dataDir().toStdString()));
    auto withBang = LmDataset::tokenize({"Hello! World! Again!"}, *gpt2, dc, 16, 0, false);
    auto dropped = LmDataset::tokenize({"Hello! World! Again!"}, *gpt2, dc, 16, 0, true);
    QCOMPARE(withBang.targets.eq(0).sum().item<int64_t>(), int64_t(3));
    QCOMPARE(dropped.targets.eq(0).sum().item<int64_t>(), int64_t(0));
    QCOMPARE(withBang.numTargets - dropped.numTargets, int64_t(3));
  }
  void linesSamplesAreTheGpt2EncodingOfTheStrippedLines() {
    // The seed keeps a line when len(line.strip()) > 30 and encodes line.strip(): samples start
    // with "The", not " The", and end without the line's trailing " " token.
    DataLocator locator(test::dataDir().toStdString());
    auto ds = LmDataset::load(config({{"num_train_samples", 4}, {"num_eval_samples", 6}}), locator);
    auto lines = TextCorpus::readLines(test::dataDir().toStdString() + "/wikitext-2/wiki.valid.tokens");
    std::vector<std::vector<int64_t>> expected;
    for (const auto& line : lines) {
      if (expected.size() == 6) break;
      std::string s = line;
      s.erase(0, s.find_first_not_of(" \n"));
      s.erase(s.find_last_not_of(" \n") + 1);
      if (s.size() > 30) expected.push_back(ds.tokenizer->encode(s));
    }
    QCOMPARE(ds.valid.size(), int64_t(6));
    for (int64_t i = 0; i < 6; ++i) {
      const auto& ids = expected[size_t(i)];
      const int64_t n = std::min<int64_t>(int64_t(ids.size()), 32);
      auto row = ds.valid.inputs[i];
      for (int64_t t = 0; t < n; ++t) QCOMPARE(row[t].item<int64_t>(), ids[size_t(t)]);
      QCOMPARE(ds.valid.mask[i].sum().item<int64_t>(), n);
      QVERIFY(ds.tokenizer->decode({ids[0]})[0] != ' ');
    }
    // First valid sample: " Homarus gammarus , known as ..." begins with "Hom", not " Hom".
    QCOMPARE(ds.valid.inputs[0][0].item<int64_t>(), ds.tokenizer->encode("Homarus")[0]);
    QVERIFY(ds.valid.inputs[0][0].item<int64_t>() != ds.tokenizer->encode(" Homarus")[0]);
    QCOMPARE(stripWhitespace("\t  caf\xc3\xa9 \xc2\xa0\n"), std::string("caf\xc3\xa9"));
    QCOMPARE(codePointCount("caf\xc3\xa9"), int64_t(4));
  }
  void packedModeFillsEveryPosition() {
    DataLocator locator(test::dataDir().toStdString());
    auto ds = LmDataset::load(config({{"sample_mode", "packed"},
                                      {"num_train_samples", 20},
                                      {"num_eval_samples", 4},
                                      {"dataset", "tinyshakespeare"},
                                      {"tokenizer", "char"}}),
                              locator);
    QCOMPARE(ds.train.size(), int64_t(20));
    QVERIFY(ds.train.targets.ne(-100).all().item<bool>());
    // Targets are the inputs shifted by one within the stream.
    QVERIFY(ds.train.targets[0].slice(0, 0, 31).equal(ds.train.inputs[0].slice(0, 1, 32)));
  }
};
MOELAB_TEST_SUITE(LmDatasetTest)
#include "LmDatasetTest.moc"
