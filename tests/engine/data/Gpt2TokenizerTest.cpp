#include <QtTest/QtTest>
#include <fstream>

#include "TestSuite.h"
#include "data/Gpt2Tokenizer.h"
#include "util/Errors.h"

using namespace moelab;

class Gpt2TokenizerTest : public QObject {
  Q_OBJECT
 private slots:
  void matchesAllReferenceEncodings() {
    std::string dir = (test::dataDir() + "/gpt2-bpe").toStdString();
    Gpt2Tokenizer tok(dir);
    QCOMPARE(tok.vocabSize(), int64_t(50257));
    QCOMPARE(tok.padId(), int64_t(50256));
    std::ifstream in(dir + "/reference-encodings.jsonl");
    QVERIFY(in.good());
    std::string line;
    int records = 0, ids = 0;
    while (std::getline(in, line)) {
      auto rec = nlohmann::json::parse(line);
      std::string text = rec["text"];
      auto expected = rec["ids"].get<std::vector<int64_t>>();
      auto got = tok.encode(text);
      QVERIFY2(got == expected,
               ("record " + std::to_string(records + 1) + ": " + text.substr(0, 60)).c_str());
      QCOMPARE(tok.decode(got), text);
      ++records;
      ids += int(got.size());
    }
    QCOMPARE(records, 203);
    QCOMPARE(ids, 17926);
  }
  void readsHuggingFaceFileLayout() {
    QTemporaryDir hf;
    QVERIFY(QFile::copy(test::dataDir() + "/gpt2-bpe/encoder.json", hf.path() + "/vocab.json"));
    QVERIFY(QFile::copy(test::dataDir() + "/gpt2-bpe/vocab.bpe", hf.path() + "/merges.txt"));
    Gpt2Tokenizer a(hf.path().toStdString()), b((test::dataDir() + "/gpt2-bpe").toStdString());
    const std::string text = "Mixture-of-experts models route tokens; don't they? 12,345 \u00e9t\u00e9";
    QVERIFY(a.encode(text) == b.encode(text));
  }
  void missingFilesNameTheFetchCommand() {
    try {
      Gpt2Tokenizer tok("/nonexistent/gpt2");
      QFAIL("expected DataError");
    } catch (const DataError& e) {
      QVERIFY(std::string(e.what()).find("moelab-cli data fetch gpt2-bpe") != std::string::npos);
    }
  }
};
MOELAB_TEST_SUITE(Gpt2TokenizerTest)
#include "Gpt2TokenizerTest.moc"
