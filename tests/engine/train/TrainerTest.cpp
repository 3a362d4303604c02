#include <QtTest/QtTest>
#include <atomic>
#include <functional>

#include "TestSuite.h"
#include "run/RunRecorder.h"
#include "train/Checkpoint.h"
#include "train/ResumeChanges.h"
#include "train/Trainer.h"
#include "util/Errors.h"

using namespace moelab;

namespace {
// Collects train/loss per step and can request a stop after a given step.
struct LossRecorder : MetricSink {
  std::map<int64_t, double> loss;
  std::map<std::string, std::map<int64_t, double>> metrics;
  std::vector<std::string> artifacts;
  int64_t stopAfter = -1;
  std::atomic<bool>* stop = nullptr;
  void onMetrics(const std::vector<MetricPoint>& points) override {
    for (const auto& p : points) {
      if (p.key == "train/loss") loss[p.step] = p.value;
      metrics[p.key][p.step] = p.value;
    }
  }
  void onProgress(const TrainProgress& p) override {
    if (stop && p.step == stopAfter) *stop = true;
  }
  void onArtifact(const std::string& key, int64_t, const nlohmann::json&) override {
    artifacts.push_back(key);
  }
};

// Calls `inject` on the trainer right after step 3 and snapshots the weights.
struct FaultAfterStep3 : LossRecorder {
  Trainer* trainer = nullptr;
  std::function<void(Trainer&)> inject;
  std::vector<torch::Tensor> before;
  void onProgress(const TrainProgress& p) override {
    if (p.step != 3) return;
    inject(*trainer);
    for (const auto& w : trainer->model()->parameters()) before.push_back(w.detach().clone());
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
  // The run must end `diverged` at step 4 naming `problem`, with the update skipped (weights as
  // after step 3, all finite) and `last` still the good checkpoint of step 2.
  static FaultAfterStep3 expectDivergenceSkipsTheUpdate(const ExperimentConfig& cfg,
                                                        std::function<void(Trainer&)> inject,
                                                        const char* problem) {
    auto data = LmDataset::load(cfg, DataLocator(test::dataDir().toStdString()));
    QTemporaryDir d;
    FaultAfterStep3 sink;
    sink.inject = std::move(inject);
    Trainer t(cfg, data, d.path().toStdString(), &sink);
    sink.trainer = &t;
    [&] {
      QVERIFY(t.run() == RunOutcome::Diverged);
      QVERIFY2(QString::fromStdString(t.divergence()).contains(problem), t.divergence().c_str());
      auto now = t.model()->parameters();
      QCOMPARE(now.size(), sink.before.size());
      for (size_t i = 0; i < now.size(); ++i) QVERIFY(torch::equal(now[i], sink.before[i]));
      QCOMPARE(readCheckpointState(t.lastCheckpointPath()).step, int64_t(2));
      Trainer check(cfg, data, d.path().toStdString(), nullptr);
      loadCheckpoint(t.lastCheckpointPath(), check.model(), nullptr, false);
      for (const auto& p : check.model()->parameters()) QVERIFY(torch::isfinite(p).all().item<bool>());
    }();
    return sink;
  }
 private slots:
  void lossFallsOnWikiTextSlice() {
    QTemporaryDir dir;
    auto cfg = tinyConfig(40, 0.0);
    auto data = LmDataset::load(cfg, DataLocator(test::dataDir().toStdString()));
    LossRecorder rec;
    Trainer t(cfg, data, dir.path().toStdString(), &rec);
    auto before = evaluate(t.model(), data.valid, 8);
    QVERIFY(t.run() == RunOutcome::Finished);
    auto after = evaluate(t.model(), data.valid, 8);
    QVERIFY2(after.loss < before.loss - 1.0,
             (std::to_string(before.loss) + " -> " + std::to_string(after.loss)).c_str());
    QVERIFY(rec.loss.at(80) < rec.loss.at(1));
    QVERIFY(QFile::exists(dir.path() + "/best.pt"));
    QVERIFY(QFile::exists(dir.path() + "/last.pt"));
    QVERIFY(std::count(rec.artifacts.begin(), rec.artifacts.end(), "adjacency") >= 8);
    // The effective coupling rides along at every evaluation.
    QCOMPARE(std::count(rec.artifacts.begin(), rec.artifacts.end(), "coupling"),
             std::count(rec.artifacts.begin(), rec.artifacts.end(), "adjacency"));
  }
  void expertViewsOffStoresNoCouplingOrCounts() {
    QTemporaryDir dir;
    auto doc = tinyConfig(6, 0.0).json;
    doc["train"]["expert_views"] = false;
    doc["train"]["epochs"] = 1;
    auto cfg = ExperimentConfig::fromJson(doc);
    auto data = LmDataset::load(cfg, DataLocator(test::dataDir().toStdString()));
    LossRecorder rec;
    Trainer t(cfg, data, dir.path().toStdString(), &rec);
    QVERIFY(t.run() == RunOutcome::Finished);
    QCOMPARE(std::count(rec.artifacts.begin(), rec.artifacts.end(), "coupling"), 0L);
    QVERIFY(std::count(rec.artifacts.begin(), rec.artifacts.end(), "adjacency") >= 1);
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
  void nonFiniteAuxLossSkipsTheUpdate() {
    auto json = tinyConfig(8, 0.0).json;
    json["model"]["architecture"] = "sparse_moe";
    json["model"]["num_experts"] = 4;
    json["train"]["eval_every"] = 2;
    // Step 4's z-loss term becomes NaN while the language-model loss stays finite.
    auto sink = expectDivergenceSkipsTheUpdate(
        ExperimentConfig::fromJson(json),
        [](Trainer& t) { t.model()->cfg.zLossCoef = std::numeric_limits<double>::quiet_NaN(); },
        "step 4: auxiliary loss is nan");
    QVERIFY(std::isfinite(sink.loss.at(4)));
  }
  void nonFiniteGradientSkipsTheUpdateEvenWithoutClipping() {
    auto cfg = tinyConfig(8, 0.0);
    cfg.train.evalEvery = 2;
    cfg.train.gradClip = 0.0;  // the norm is still computed and checked
    expectDivergenceSkipsTheUpdate(
        cfg,
        [](Trainer& t) {
          t.model()->headWeight().register_hook(
              [](torch::Tensor g) { return g * std::numeric_limits<float>::quiet_NaN(); });
        },
        "step 4: gradient norm is nan");
  }
  void validationScoresAFixedSubsetSpreadOverTheSplitAndTheWholeSplitAtTheEnd() {
    auto json = tinyConfig(8, 0.0).json;
    json["data"]["num_eval_samples"] = 200;
    json["train"]["eval_batches"] = 2;  // 16 of 200 samples
    json["train"]["eval_every"] = 4;
    auto cfg = ExperimentConfig::fromJson(json);
    auto data = LmDataset::load(cfg, DataLocator(test::dataDir().toStdString()));
    QCOMPARE(data.valid.size(), int64_t(200));
    auto rows = validationRows(200, 16, 7);
    QCOMPARE(rows, validationRows(200, 16, 7));  // the same at every evaluation
    QVERIFY(std::is_sorted(rows.begin(), rows.end()));
    QVERIFY(rows.front() < 50 && rows.back() >= 150);  // spread over the split, not its first articles
    QVERIFY(rows != validationRows(200, 16, 8));
    QTemporaryDir d;
    LossRecorder rec;
    Trainer t(cfg, data, d.path().toStdString(), &rec);
    QCOMPARE(t.validationSet().size(), int64_t(16));
    QVERIFY(t.validationSet().inputs.equal(data.valid.select(torch::tensor(rows)).inputs));
    QVERIFY(t.run() == RunOutcome::Finished);
    for (auto [step, n] : rec.metrics.at("val/samples")) QCOMPARE(n, 16.0);
    QCOMPARE(rec.metrics.at("val/samples").size(), size_t(4));
    QCOMPARE(rec.metrics.at("val_full/samples").at(16), 200.0);
    auto full = evaluate(t.model(), data.valid, 8);
    QVERIFY(std::abs(rec.metrics.at("val_full/loss").at(16) - full.loss) < 1e-9);
    QCOMPARE(rec.metrics.at("val_full/tokens").at(16), double(full.tokens));
    QCOMPARE(full.samples, int64_t(200));
    QCOMPARE(full.batches, int64_t(25));
  }
  void extendingTheHorizonContinuesTheLearningRateWithoutAJump() {
    auto cfg = tinyConfig(8, 0.1);  // 16 steps, warm-up 5
    auto data = LmDataset::load(cfg, DataLocator(test::dataDir().toStdString()));
    QTemporaryDir d;
    std::atomic<bool> stop{false};
    LossRecorder first;
    first.stop = &stop;
    first.stopAfter = 8;
    Trainer ta(cfg, data, d.path().toStdString(), &first);
    QVERIFY(ta.run(&stop) == RunOutcome::Interrupted);
    const double rateAt8 = ta.learningRateAt(8);

    auto longer = cfg;
    longer.train.epochs = 4;  // 32 steps
    Trainer refused(longer, data, d.path().toStdString(), nullptr);
    QVERIFY_EXCEPTION_THROWN(refused.resumeFrom(refused.lastCheckpointPath()), UserError);

    LossRecorder second;
    Trainer tb(longer, data, d.path().toStdString(), &second);
    QCOMPARE(tb.resumeFrom(tb.lastCheckpointPath(), /*extendHorizon=*/true), int64_t(8));
    QCOMPARE(tb.totalSteps(), int64_t(32));
    QCOMPARE(tb.learningRateAt(8), rateAt8);
    for (int64_t s = 9; s <= 32; ++s) QVERIFY(tb.learningRateAt(s) < tb.learningRateAt(s - 1));
    QVERIFY(std::abs(tb.learningRateAt(32) - cfg.train.minLearningRate) < 1e-12);
    QVERIFY(tb.run() == RunOutcome::Finished);
    QCOMPARE(second.metrics.at("train/lr").at(9), rateAt8);
    // A second resume of the extended run keeps the extended schedule.
    auto state = readCheckpointState(tb.lastCheckpointPath());
    QCOMPARE(state.totalSteps, int64_t(32));
    QCOMPARE(state.anchorStep, int64_t(8));
  }
  void resumeRefusesChangesThatBreakExactResume() {
    auto base = tinyConfig(8, 0.1).json;
    auto with = [&](const std::string& section, const std::string& key, nlohmann::json v) {
      auto j = base;
      j[section][key] = v;
      return ExperimentConfig::fromJson(j).json;
    };
    const auto recorded = ExperimentConfig::fromJson(base).json;
    QVERIFY(checkResumeChanges(recorded, recorded, false).empty());
    auto threads = checkResumeChanges(recorded, with("train", "threads", 1), false);
    QCOMPARE(threads.changes.size(), size_t(1));
    QCOMPARE(QString::fromStdString(threads.describe()), QString("train.threads 0 -> 1"));
    QVERIFY_EXCEPTION_THROWN(checkResumeChanges(recorded, with("train", "batch_size", 16), true), UserError);
    QVERIFY_EXCEPTION_THROWN(checkResumeChanges(recorded, with("train", "learning_rate", 1e-3), true),
                             UserError);
    QVERIFY_EXCEPTION_THROWN(checkResumeChanges(recorded, with("model", "dropout", 0.2), true), UserError);
    QVERIFY_EXCEPTION_THROWN(checkResumeChanges(recorded, with("train", "max_steps", 40), false), UserError);
    auto extended = checkResumeChanges(recorded, with("train", "max_steps", 40), true);
    QVERIFY(extended.horizonChanged);
    QCOMPARE(extended.toJson()[0]["key"].get<std::string>(), std::string("train.max_steps"));
  }
  void unwritableCheckpointFolderIsRefusedBeforeTheFirstStep() {
    auto cfg = tinyConfig(8, 0.0);
    auto data = LmDataset::load(cfg, DataLocator(test::dataDir().toStdString()));
    QTemporaryDir d;
    QFile blocker(d.path() + "/file");
    QVERIFY(blocker.open(QIODevice::WriteOnly));
    blocker.close();
    LossRecorder rec;
    Trainer t(cfg, data, (d.path() + "/file/run").toStdString(), &rec);
    try {
      t.run();
      QFAIL("expected UserError");
    } catch (const UserError& e) {
      QVERIFY2(QString(e.what()).contains("cannot create the checkpoint folder"), e.what());
    }
    QVERIFY(rec.loss.empty());  // refused before any training
  }
  void checkpointsOnACadenceOfTheirOwnWithMetricsWrittenFirst() {
    auto cfg = tinyConfig(8, 0.0);  // 16 steps
    cfg.train.evalEvery = 100;      // evaluations only at the end
    cfg.train.checkpointEvery = 3;
    cfg.train.checkpointMinutes = 0;
    auto data = LmDataset::load(cfg, DataLocator(test::dataDir().toStdString()));
    QTemporaryDir d;
    const std::string db = d.path().toStdString() + "/c.db";
    ExperimentStore store(db);
    const int64_t run = store.createRun("e", "r", cfg.json);
    // Probe behind the recorder: when a checkpoint of step s is about to be written, every metric
    // row of step s (val/loss included) is already in the database and last.pt is older.
    struct Probe : MetricSink {
      std::string db, last;
      int64_t run = 0;
      std::vector<int64_t> saved;
      bool ordered = true;
      void beforeCheckpoint(int64_t step) override {
        ExperimentStore reader(db, /*readOnly=*/true);
        bool hasLoss = false;
        for (const auto& m : reader.metrics(run, "train/loss")) hasLoss |= m.step == step;
        if (step == 16) {
          bool hasVal = false;
          for (const auto& m : reader.metrics(run, "val/loss")) hasVal |= m.step == step;
          hasLoss &= hasVal;
        }
        if (!hasLoss ||
            (QFile::exists(QString::fromStdString(last)) && readCheckpointState(last).step >= step))
          ordered = false;
      }
      void onCheckpoint(int64_t step, const std::string& path, const std::string&) override {
        if (path == last) saved.push_back(step);
      }
    } probe;
    probe.db = db;
    probe.run = run;
    probe.last = d.path().toStdString() + "/ck/last.pt";
    {
      RunRecorder recorder(store, run, &probe);
      Trainer t(cfg, data, d.path().toStdString() + "/ck", &recorder);
      QVERIFY(t.run() == RunOutcome::Finished);
    }
    QCOMPARE(probe.saved, (std::vector<int64_t>{3, 6, 9, 12, 15, 16}));
    QVERIFY(probe.ordered);
    QDir ck(d.path() + "/ck");
    QCOMPARE(ck.entryList({"*.tmp*"}, QDir::Files | QDir::Hidden).size(), 0);  // no temp files left
  }
  void damagedCheckpointIsRefusedByItsDigest() {
    auto cfg = tinyConfig(4, 0.0);  // 8 steps
    cfg.train.evalEvery = 4;
    auto data = LmDataset::load(cfg, DataLocator(test::dataDir().toStdString()));
    QTemporaryDir d;
    Trainer t(cfg, data, d.path().toStdString(), nullptr);
    QVERIFY(t.run() == RunOutcome::Finished);
    const QString last = QString::fromStdString(t.lastCheckpointPath());
    QFile sidecar(last + ".sha256");
    QVERIFY(sidecar.open(QIODevice::ReadOnly));
    QCOMPARE(sidecar.readAll().trimmed().size(), 64);  // exactly one digest once the save is done
    verifyCheckpoint(t.lastCheckpointPath());
    // 4 KB of 0xFF inside the tensor data: the archive still parses, the digest does not match.
    QFile f(last);
    QVERIFY(f.open(QIODevice::ReadWrite));
    QVERIFY(f.seek(f.size() / 2));
    f.write(QByteArray(4096, char(0xFF)));
    f.close();
    Trainer check(cfg, data, d.path().toStdString(), nullptr);
    try {
      loadCheckpoint(t.lastCheckpointPath(), check.model(), nullptr, false);
      QFAIL("expected UserError");
    } catch (const UserError& e) {
      QVERIFY2(QString(e.what()).contains("is damaged"), e.what());
    }
    QVERIFY_EXCEPTION_THROWN(check.resumeFrom(t.lastCheckpointPath()), UserError);
    loadCheckpoint(t.bestCheckpointPath(), check.model(), nullptr, false);  // the other one is intact
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
