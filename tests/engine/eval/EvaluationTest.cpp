#include <QtTest/QtTest>

#include "TestSuite.h"
#include "data/DataLocator.h"
#include "data/LmDataset.h"
#include "eval/Lambada.h"
#include "eval/SlidingWindowEval.h"
#include "train/Trainer.h"
#include "util/Errors.h"

using namespace moelab;

namespace {
std::vector<int64_t> randomStream(int64_t n, int64_t vocab) {
  torch::manual_seed(9);
  auto t = torch::randint(vocab, {n}, torch::kLong);
  return {t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n};
}
}  // namespace

class EvaluationTest : public QObject {
  Q_OBJECT
 private slots:
  void strideEqualToContextIsThePlainPerplexityOfChunks() {
    for (const char* arch : {"dense", "sparse_moe"}) {
      torch::manual_seed(1);
      ModelConfig cfg{arch, 16, 1, 2, 4, 0, 16, 30, 0.0};
      cfg.evalCapacityFactor = 0;
      LanguageModel model(cfg);
      const int64_t T = 16, n = 7;
      const auto stream = randomStream(T * n + 1, 30);
      // The same text as consecutive samples: inputs t..t+15, targets the next tokens.
      TokenSplit chunks;
      auto s = torch::tensor(stream, torch::kLong);
      chunks.inputs = s.narrow(0, 0, T * n).reshape({n, T});
      chunks.targets = s.narrow(0, 1, T * n).reshape({n, T});
      chunks.mask = torch::ones({n, T}, torch::kBool);
      chunks.numTargets = T * n;
      const EvalResult plain = evaluate(model, chunks, 3);
      const auto strided = slidingWindowPerplexity(model, stream, T, T, 3);
      QCOMPARE(strided.scored, T * n);
      QCOMPARE(strided.windows, n);
      QVERIFY2(std::abs(strided.loss - plain.loss) < 1e-5, arch);
    }
  }
  void overlappingWindowsScoreEveryTokenOnce() {
    LanguageModel model(ModelConfig{"dense", 16, 1, 2, 1, 0, 16, 30, 0.0});
    const auto stream = randomStream(101, 30);
    const auto r = slidingWindowPerplexity(model, stream, 16, 4, 5);
    QCOMPARE(r.scored, int64_t(100));  // every token after the first, once
    QCOMPARE(r.windows, int64_t(22));  // ends 16, 20, ..., 100
    QCOMPARE(r.contextLength, int64_t(16));
    QCOMPARE(r.stride, int64_t(4));
    QVERIFY(std::isfinite(r.perplexity) && r.perplexity > 1);
    // Batch size changes nothing but speed.
    QVERIFY(std::abs(slidingWindowPerplexity(model, stream, 16, 4, 1).loss - r.loss) < 1e-5);
    QVERIFY_THROWS_EXCEPTION(UserError,
                             slidingWindowPerplexity(model, stream, 17, 4, 1));            // > max_seq_length
    QVERIFY_THROWS_EXCEPTION(UserError, slidingWindowPerplexity(model, stream, 8, 9, 1));  // stride > context
    QVERIFY_THROWS_EXCEPTION(UserError, slidingWindowPerplexity(model, {3}, 8, 4, 1));
  }
  void lambadaSplitsOffTheLastWord() {
    auto item = splitLastWord("He looked at the  signs ");
    QCOMPARE(item.context, std::string("He looked at the"));
    QCOMPARE(item.target, std::string("signs"));
    QVERIFY_THROWS_EXCEPTION(UserError, splitLastWord("   "));
    const std::string path = moelab::test::dataDir().toStdString() + "/lambada/lambada_test.jsonl";
    const auto items = readLambada(path);
    QCOMPARE(int64_t(items.size()), int64_t(5153));
    QCOMPARE(items[0].target, std::string("signs"));
    QVERIFY(items[0].context.size() > 100 && items[0].context.back() != ' ');
    QTemporaryDir dir;
    QFile bad(dir.path() + "/bad.jsonl");
    bad.open(QIODevice::WriteOnly);
    bad.write("{\"text\": \"one two\"}\n{\"text\": \"   \"}\n");
    bad.close();
    try {
      readLambada(bad.fileName().toStdString());
      QFAIL("a passage without a last word was accepted");
    } catch (const DataError& e) {
      QVERIFY2(QString(e.what()).contains("record 2"), e.what());
    }
  }
  void lambadaScoresTheWordGivenThePassage() {
    const std::string path = moelab::test::dataDir().toStdString() + "/lambada/lambada_test.jsonl";
    auto items = readLambada(path);
    items.resize(6);
    const auto tok = LmDataset::gpt2(DataLocator(moelab::test::dataDir().toStdString()));
    torch::manual_seed(3);
    LanguageModel model(ModelConfig{"dense", 16, 1, 2, 1, 0, 64, 50257, 0.0});
    const auto r = evaluateLambada(model, *tok, items, 4);
    QCOMPARE(r.passages, int64_t(6));
    QVERIFY(r.truncated > 0);  // LAMBADA passages are longer than 64 tokens
    int64_t targetTokens = 0;
    for (const auto& it : items) targetTokens += int64_t(tok->encode(" " + it.target).size());
    QCOMPARE(r.targetTokens, targetTokens);
    // An untrained model over 50,257 tokens: about ln(50257) per token, no correct words.
    QVERIFY(std::abs(r.tokenLoss - std::log(50257.0)) < 1.0);
    QCOMPARE(r.correct, int64_t(0));
    // Padding in a batch changes nothing: one passage at a time gives the same numbers.
    const auto single = evaluateLambada(model, *tok, items, 1);
    QVERIFY(std::abs(single.perplexity - r.perplexity) / r.perplexity < 1e-4);
  }
  void lambadaCountsAWordRightOnlyWhenEveryTokenIsTheArgmax() {
    // A model whose head always prefers one token: words made of that token are right.
    const std::string path = moelab::test::dataDir().toStdString() + "/lambada/lambada_test.jsonl";
    const auto tok = LmDataset::gpt2(DataLocator(moelab::test::dataDir().toStdString()));
    LanguageModel model(ModelConfig{"dense", 16, 1, 2, 1, 0, 64, 50257, 0.0});
    const int64_t the = tok->encode(" the")[0];
    {
      torch::NoGradGuard g;
      model->head->weight.zero_();
      model->head->bias.zero_();
      model->head->bias[the] = 50;
    }
    const auto r = evaluateLambada(model, *tok, {{"and so it was", "the"}, {"and so it was", "cat"}}, 2);
    QCOMPARE(r.correct, int64_t(1));
    QCOMPARE(r.accuracy, 0.5);
  }
};

MOELAB_TEST_SUITE(EvaluationTest)
#include "EvaluationTest.moc"
