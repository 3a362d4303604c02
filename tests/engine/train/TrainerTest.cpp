#include <QtTest/QtTest>
#include <atomic>

#include "TestSuite.h"
#include "train/Checkpoint.h"
#include "train/Trainer.h"
#include "util/Errors.h"

using namespace moelab;

namespace {
// Collects train/loss per step and can request a stop after a given step.
struct LossRecorder : MetricSink {
  std::map<int64_t, double> loss;
  std::vector<std::string> artifacts;
  int64_t stopAfter = -1;
  std::atomic<bool>* stop = nullptr;
  void onMetrics(const std::vector<MetricPoint>& points) override {
    for (const auto& p : points)
      if (p.key == "train/loss") loss[p.step] = p.value;
  }
  void onProgress(const TrainProgress& p) override {
    if (stop && p.step == stopAfter) *stop = true;
  }
  void onArtifact(const std::string& key, int64_t, const nlohmann::json&) override {
    artifacts.push_back(key);
  }
};

ExperimentConfig tinyConfig(int64_t maxBatches, double dropout) {
  return ExperimentConfig::fromJson(
      {{"model",
        {{"embed_dim", 32},
         {"num_layers", 1},
         {"num_heads", 2},
         {"num_experts", 2},
         {"gnn_layers", 1},
         {"max_seq_length", 32},
         {"dropout", dropout}}},
       {"data", {{"tokenizer", "char"}, {"num_train_samples", 400}, {"num_eval_samples", 32}}},
       {"train",
        {{"batch_size", 8},
         {"learning_rate", 3e-3},
         {"epochs", 2},
         {"max_batches_per_epoch", maxBatches},
         {"eval_every", 10},
         {"log_every", 1},
         {"warmup_steps", 5},
         {"seed", 7}}}});
}
}  // namespace

class TrainerTest : public QObject {
  Q_OBJECT
 private slots:
  void lossFallsOnWikiTextSlice() {
    QTemporaryDir dir;
    auto cfg = tinyConfig(40, 0.0);
    auto data = LmDataset::load(cfg, DataLocator(test::dataDir().toStdString()));
    LossRecorder rec;
    Trainer t(cfg, data, dir.path().toStdString(), &rec);
    auto before = evaluate(t.model(), data.valid, 8, 0);
    QVERIFY(t.run() == RunOutcome::Finished);
    auto after = evaluate(t.model(), data.valid, 8, 0);
    QVERIFY2(after.loss < before.loss - 1.0,
             (std::to_string(before.loss) + " -> " + std::to_string(after.loss)).c_str());
    QVERIFY(rec.loss.at(80) < rec.loss.at(1));
    QVERIFY(QFile::exists(dir.path() + "/best.pt"));
    QVERIFY(QFile::exists(dir.path() + "/last.pt"));
    QVERIFY(std::count(rec.artifacts.begin(), rec.artifacts.end(), "adjacency") >= 8);
  }
  void resumeReproducesTheUninterruptedCurve() {
    auto cfg = tinyConfig(8, 0.1);  // dropout on: the RNG state must be restored too
    auto data = LmDataset::load(cfg, DataLocator(test::dataDir().toStdString()));
    QTemporaryDir a, b;
    LossRecorder full;
    Trainer ta(cfg, data, a.path().toStdString(), &full);
    QVERIFY(ta.run() == RunOutcome::Finished);
    QCOMPARE(full.loss.size(), size_t(16));

    std::atomic<bool> stop{false};
    LossRecorder first;
    first.stop = &stop;
    first.stopAfter = 5;  // mid-epoch, between evaluations
    Trainer tb(cfg, data, b.path().toStdString(), &first);
    QVERIFY(tb.run(&stop) == RunOutcome::Interrupted);
    QCOMPARE(first.loss.rbegin()->first, int64_t(5));

    LossRecorder second;
    Trainer tc(cfg, data, b.path().toStdString(), &second);
    QCOMPARE(tc.resumeFrom(tc.lastCheckpointPath()), int64_t(5));
    QVERIFY(tc.run() == RunOutcome::Finished);
    QCOMPARE(second.loss.begin()->first, int64_t(6));
    for (int64_t s = 1; s <= 16; ++s) {
      double resumed = s <= 5 ? first.loss.at(s) : second.loss.at(s);
      QVERIFY2(std::abs(resumed - full.loss.at(s)) < 1e-6,
               ("step " + std::to_string(s) + ": " + std::to_string(resumed) + " vs " +
                std::to_string(full.loss.at(s)))
                   .c_str());
    }
  }
  void cosineScheduleWithWarmup() {
    auto cfg = tinyConfig(8, 0.0);
    auto data = LmDataset::load(cfg, DataLocator(test::dataDir().toStdString()));
    QTemporaryDir d;
    Trainer t(cfg, data, d.path().toStdString(), nullptr);
    QCOMPARE(t.totalSteps(), int64_t(16));
    QVERIFY(std::abs(t.learningRateAt(0) - 3e-3 / 5) < 1e-12);
    QVERIFY(std::abs(t.learningRateAt(5) - 3e-3) < 1e-12);
    QVERIFY(std::abs(t.learningRateAt(16) - 1e-6) < 1e-12);
  }
  void nonFiniteLossStopsAsDivergedKeepingLastGoodCheckpoint() {
    auto cfg = tinyConfig(8, 0.0);
    cfg.train.evalEvery = 2;
    auto data = LmDataset::load(cfg, DataLocator(test::dataDir().toStdString()));
    QTemporaryDir d;
    struct Poison : LossRecorder {
      Trainer* trainer = nullptr;
      void onProgress(const TrainProgress& p) override {
        if (p.step == 3) {  // corrupt a weight after step 3: step 4's loss is NaN
          torch::NoGradGuard g;
          trainer->model()->headWeight()[0][0] = std::numeric_limits<float>::quiet_NaN();
        }
      }
    } sink;
    Trainer t(cfg, data, d.path().toStdString(), &sink);
    sink.trainer = &t;
    QVERIFY(t.run() == RunOutcome::Diverged);
    QVERIFY(std::isnan(sink.loss.at(4)));
    auto state = readCheckpointState(t.lastCheckpointPath());
    QCOMPARE(state.step, int64_t(2));
    Trainer check(cfg, data, d.path().toStdString(), nullptr);
    loadCheckpoint(t.lastCheckpointPath(), check.model(), nullptr, false);
    for (const auto& p : check.model()->parameters()) QVERIFY(torch::isfinite(p).all().item<bool>());
  }
  void corruptCheckpointIsAClearError() {
    QTemporaryDir d;
    QFile f(d.path() + "/bad.pt");
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("not a checkpoint");
    f.close();
    try {
      readCheckpointState((d.path() + "/bad.pt").toStdString());
      QFAIL("expected UserError");
    } catch (const UserError& e) {
      QVERIFY(QString(e.what()).contains("corrupt or not a MoE Lab checkpoint"));
    }
  }
};
MOELAB_TEST_SUITE(TrainerTest)
#include "TrainerTest.moc"
