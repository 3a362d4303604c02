#include <signal.h>

#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest/QtTest>
#include <cmath>
#include <functional>
#include <thread>

#include "TestSuite.h"
#include "dist/DistributedContext.h"
#include "dist/ExpertParallel.h"
#include "dist/GradientAllReduce.h"
#include "dist/RankLauncher.h"
#include "engine/cli/CliHarness.h"
#include "model/SwiGlu.h"
#include "store/ExperimentStore.h"

// Data-parallel training on c10d (Gloo over 127.0.0.1, one thread per rank): the real moelab-cli
// with --nproc 2 against one process, resume across a restart of both ranks, a killed rank, and
// the gradient all-reduce itself with parameters some ranks give no gradient.
class DistributedTrainingTest : public CliHarness {
  Q_OBJECT
  // Two epochs of 19 samples in batches of 6: the last batch of each epoch has one sample, so rank
  // 1's shard is empty there; `lines` samples have padding, so the shards' real-token counts differ.
  QString tinyConfig(const QString& name, const QString& architecture) {
    return writeConfig(name, QString(R"({
      "model": {"architecture": "%1", "embed_dim": 32, "num_layers": 2, "num_heads": 2, "num_experts": 2,
                "max_seq_length": 32, "dropout": 0.0},
      "data": {"tokenizer": "char", "num_train_samples": 19, "num_eval_samples": 10},
      "train": {"batch_size": 6, "epochs": 2, "eval_every": 4, "log_every": 1, "warmup_steps": 0,
                "learning_rate": 0.002, "min_learning_rate": 0.002}})")
                                 .arg(architecture)
                                 .toUtf8());
  }
  // Sparse MoE, 4 experts, dropless and without the batch-level losses (one process on the global
  // batch routes every token as the ranks do).
  QString expertParallelConfig(const QString& name) {
    return writeConfig(name, R"({
      "model": {"architecture": "sparse_moe", "embed_dim": 32, "num_layers": 2, "num_heads": 2, "num_experts": 4,
                "top_k": 2, "max_seq_length": 32, "expert_intermediate_dim": 32, "dropout": 0.0,
                "capacity_factor": 0, "aux_loss_coef": 0, "z_loss_coef": 0},
      "data": {"tokenizer": "char", "num_train_samples": 48, "num_eval_samples": 10},
      "train": {"batch_size": 8, "epochs": 1, "eval_every": 3, "log_every": 1}})");
  }
  std::vector<double> series(const QString& db, const std::string& key, int64_t run = 1) {
    moelab::ExperimentStore store(db.toStdString(), /*readOnly=*/true);
    std::vector<double> v;
    for (const auto& m : store.metrics(run, key)) v.push_back(m.value);
    return v;
  }
  static void compareCurves(const std::vector<double>& a, const std::vector<double>& b, double tol) {
    QCOMPARE(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i)
      QVERIFY2(
          std::abs(a[i] - b[i]) <= tol * std::abs(b[i]),
          qPrintable(QString("step %1: %2 vs %3").arg(i + 1).arg(a[i], 0, 'g', 10).arg(b[i], 0, 'g', 10)));
  }
  // `body` on two ranks, each a thread with its own process group over 127.0.0.1; returns the
  // errors they threw (empty when none).
  static std::string onTwoRanks(const std::function<void(moelab::DistributedContext&, int)>& body) {
    const int port = moelab::freeLoopbackPort();
    std::vector<std::string> errors(2);
    auto rank = [&](int r) {
      try {
        moelab::DistributedSpec spec;
        spec.rank = r;
        spec.worldSize = 2;
        spec.masterPort = port;
        spec.timeoutSeconds = 30;
        moelab::DistributedContext dist(spec);
        body(dist, r);
      } catch (const std::exception& e) {
        errors[size_t(r)] = e.what();
      }
    };
    std::thread r0(rank, 0), r1(rank, 1);
    r0.join();
    r1.join();
    return errors[0] + errors[1];
  }
  std::string runStatus(const QString& db, int64_t run, std::string* error = nullptr) {
    moelab::ExperimentStore store(db.toStdString(), /*readOnly=*/true);
    auto r = store.run(run);
    if (error) *error = r ? r->error : "";
    return r ? r->status : "";
  }

 private slots:
  void twoRanksTrainLikeOneProcess() {
    for (const QString arch : {"gnn_moe", "dense"}) {
      const QString cfg = tinyConfig(arch + ".json", arch);
      const QString one = arch + "-one.db", two = arch + "-two.db";
      auto a = cli({"train", cfg, "--db", one, "--threads", "1"});
      QVERIFY2(a.code == 0, qPrintable(a.err));
      auto b = cli({"train", cfg, "--db", two, "--nproc", "2", "--threads", "2"});
      QVERIFY2(b.code == 0, qPrintable(b.err));
      QVERIFY2(b.err.contains("starting 2 ranks"), qPrintable(b.err));
      const auto lossOne = series(dir_.path() + "/" + one, "train/loss");
      QCOMPARE(lossOne.size(), size_t(8));  // 2 epochs of ceil(19 / 6) batches
      compareCurves(series(dir_.path() + "/" + two, "train/loss"), lossOne, 2e-6);
      compareCurves(series(dir_.path() + "/" + two, "val_full/loss"),
                    series(dir_.path() + "/" + one, "val_full/loss"), 2e-6);
      // One run in the database, its per-rank timings recorded.
      QCOMPARE(runStatus(dir_.path() + "/" + two, 1), std::string("finished"));
      QVERIFY(runStatus(dir_.path() + "/" + two, 2).empty());
      QCOMPARE(series(dir_.path() + "/" + two, "dist/rank1/compute_s").size(), size_t(8));
      QVERIFY(series(dir_.path() + "/" + two, "dist/allreduce_bytes").front() > 0);
    }
  }

  void resumeAcrossARestartOfBothRanks() {
    const QString cfg = tinyConfig("resume.json", "gnn_moe");
    auto whole = cli({"train", cfg, "--db", "whole.db", "--nproc", "2", "--threads", "2"});
    QVERIFY2(whole.code == 0, qPrintable(whole.err));
    auto first =
        cli({"train", cfg, "--db", "split.db", "--nproc", "2", "--threads", "2", "--max-steps", "3"});
    QVERIFY2(first.code == 0, qPrintable(first.err));
    // Another world size is refused: the checkpoint holds two ranks' random states.
    auto wrong = cli({"train", "--resume", "1", "--extend", "--max-steps", "8", "--db", "split.db"});
    QCOMPARE(wrong.code, 2);
    QVERIFY2(wrong.err.contains("2 ranks") && wrong.err.contains("--nproc 2"), qPrintable(wrong.err));
    auto rest = cli({"train", "--resume", "1", "--extend", "--max-steps", "8", "--db", "split.db", "--nproc",
                     "2", "--threads", "2"});
    QVERIFY2(rest.code == 0, qPrintable(rest.err));
    QVERIFY2(rest.err.contains("resuming run 1 from step 3"), qPrintable(rest.err));
    compareCurves(series(dir_.path() + "/split.db", "train/loss"),
                  series(dir_.path() + "/whole.db", "train/loss"), 1e-6);
  }

  void expertParallelTrainsLikeOneProcess() {
    // Dropless routing without the batch-level balancing losses: every token's experts and weights
    // are its own, so one process on the global batch is the reference. Then with capacity and the
    // losses on, expert parallel must equal data parallel (both route each rank's shard).
    auto cfg = expertParallelConfig("ep.json");
    auto one = cli({"train", cfg, "--db", "ep-one.db", "--threads", "1"});
    QVERIFY2(one.code == 0, qPrintable(one.err));
    auto ep = cli({"train", cfg, "--db", "ep-two.db", "--nproc", "2", "--threads", "2", "--set",
                   "model.expert_parallel=2"});
    QVERIFY2(ep.code == 0, qPrintable(ep.err));
    compareCurves(series(dir_.path() + "/ep-two.db", "train/loss"),
                  series(dir_.path() + "/ep-one.db", "train/loss"), 2e-6);
    QCOMPARE(series(dir_.path() + "/ep-two.db", "train/loss").size(), size_t(6));
    // The routing metrics are the global batch's (both ranks' tokens), as one process sees them.
    for (const std::string key : {"moe/layer0/tokens", "moe/layer1/load/2", "moe/router_entropy_mean"})
      compareCurves(series(dir_.path() + "/ep-two.db", key), series(dir_.path() + "/ep-one.db", key), 1e-5);
    QVERIFY(series(dir_.path() + "/ep-two.db", "dist/rank1/alltoall_s").front() > 0);
    QVERIFY(series(dir_.path() + "/ep-two.db", "dist/rank0/alltoall_bytes").front() > 0);
    const QStringList capacity = {"--set", "model.capacity_factor=1.0", "--set", "model.aux_loss_coef=0.01",
                                  "--set", "model.z_loss_coef=0.001"};
    auto dp =
        cli(QStringList{"train", cfg, "--db", "cap-dp.db", "--nproc", "2", "--threads", "2"} + capacity);
    QVERIFY2(dp.code == 0, qPrintable(dp.err));
    auto epCap = cli(QStringList{"train", cfg, "--db", "cap-ep.db", "--nproc", "2", "--threads", "2", "--set",
                                 "model.expert_parallel=2"} +
                     capacity);
    QVERIFY2(epCap.code == 0, qPrintable(epCap.err));
    compareCurves(series(dir_.path() + "/cap-ep.db", "train/loss"),
                  series(dir_.path() + "/cap-dp.db", "train/loss"), 2e-6);
    // Each rank's experts train on the gradients the exchange brings back: only the rest is
    // all-reduced.
    const double expertBytes = 2 * 3 * 4 * 32 * 32 * 4;  // layers x (w1, w3, w2) x experts x D x I x fp32
    QVERIFY(series(dir_.path() + "/cap-ep.db", "dist/allreduce_bytes").front() <=
            series(dir_.path() + "/cap-dp.db", "dist/allreduce_bytes").front() - expertBytes);
    // Expert parallel needs as many ranks as it splits the experts over.
    auto alone = cli({"train", cfg, "--db", "alone.db", "--set", "model.expert_parallel=2"});
    QCOMPARE(alone.code, 2);
    QVERIFY2(alone.err.contains("--nproc 2"), qPrintable(alone.err));
  }

  void shardedExpertsCheckpointWholeAndResume() {
    // Each rank holds half the experts; the checkpoint holds all of them with their AdamW moments,
    // so a resume on two ranks continues the curve exactly and one process evaluates the file to
    // the loss the two ranks measured.
    const auto cfg = expertParallelConfig("shard.json");
    // A constant learning rate: the resume extends the horizon, which would re-anchor a cosine.
    const QStringList ep = {"--nproc",   "2",
                            "--threads", "2",
                            "--set",     "model.expert_parallel=2",
                            "--set",     "train.warmup_steps=0",
                            "--set",     "train.min_learning_rate=0.002",
                            "--set",     "train.learning_rate=0.002"};
    auto whole = cli(QStringList{"train", cfg, "--db", "shard-whole.db"} + ep);
    QVERIFY2(whole.code == 0, qPrintable(whole.err));
    auto first = cli(QStringList{"train", cfg, "--db", "shard-split.db", "--max-steps", "2"} + ep);
    QVERIFY2(first.code == 0, qPrintable(first.err));
    auto rest =
        cli(QStringList{"train", "--resume", "1", "--extend", "--max-steps", "6", "--db", "shard-split.db"} +
            ep.mid(0, 4));
    QVERIFY2(rest.code == 0, qPrintable(rest.err));
    compareCurves(series(dir_.path() + "/shard-split.db", "train/loss"),
                  series(dir_.path() + "/shard-whole.db", "train/loss"), 2e-6);
    const auto measured = series(dir_.path() + "/shard-whole.db", "val_full/loss");
    QCOMPARE(measured.size(), size_t(1));
    auto alone = cli({"eval", "--run", "1", "--which", "last", "--db", "shard-whole.db", "--threads", "1",
                      "--json", "--no-store"});
    QVERIFY2(alone.code == 0, qPrintable(alone.err));
    const auto json = QJsonDocument::fromJson(alone.out.toUtf8()).object();
    QVERIFY2(std::abs(json["loss"].toDouble() - measured.front()) < 1e-5 * measured.front(),
             qPrintable(alone.out + " vs " + QString::number(measured.front(), 'g', 10)));
    // The run reports the whole model's size, not rank 0's share of it.
    auto one = cli({"train", cfg, "--db", "shard-one.db", "--threads", "1", "--max-steps", "1"});
    QVERIFY2(one.code == 0, qPrintable(one.err));
    const auto parameters = [&](const QString& db) {
      moelab::ExperimentStore store((dir_.path() + "/" + db).toStdString(), /*readOnly=*/true);
      return store.artifacts(1, "plan").front().content["parameters"].get<int64_t>();
    };
    QCOMPARE(parameters("shard-whole.db"), parameters("shard-one.db"));
  }

  void benchSplitsTheStepAndSimulatesTheExchange() {
    // bench --nproc 2 with expert parallel: one process, then two ranks on the same global batch;
    // the step split per rank, the exchange measured in the step and replayed alone, and the
    // simulator's prediction for the same traffic on the measured link.
    const auto cfg = expertParallelConfig("bench.json");
    auto b = cli({"bench", cfg, "--nproc", "2", "--threads", "2", "--steps", "2", "--warmup", "1", "--json",
                  "--set", "model.expert_parallel=2"});
    QVERIFY2(b.code == 0, qPrintable(b.err));
    const auto doc = QJsonDocument::fromJson(b.out.toUtf8()).object();
    QVERIFY2(doc["scaling_efficiency"].toDouble() > 0, qPrintable(b.out.left(400)));
    const auto ranks = doc["data_parallel"].toObject();
    QCOMPARE(ranks["world_size"].toInt(), 2);
    QCOMPARE(ranks["ranks"].toArray().size(), 2);
    QVERIFY(ranks["ranks"].toArray()[1].toObject()["alltoall_seconds"].toDouble() > 0);
    QVERIFY(ranks["alltoall_bytes_rank0"].toDouble() > 0);
    const auto sim = ranks["simulated"].toObject();
    QVERIFY(sim["predicted_alltoall_seconds"].toDouble() > 0);
    QVERIFY(sim["replayed_alltoall_seconds"].toDouble() > 0);
    QVERIFY(sim["link_floor_us"].toDouble() > 0);
  }

  void anExpertWithNoTokensOnARankStillExchanges() {
    // 4 experts on 2 ranks (rank 0 owns 0 and 1). The router sends every rank-0 token to expert 1 and
    // every rank-1 token to expert 0: rank 1's experts get no rows at all, rank 0 sends none away.
    moelab::ModelConfig m;
    m.architecture = "sparse_moe";
    m.embedDim = 8;
    m.numExperts = 4;
    m.topK = 1;
    m.capacityFactor = 0;
    m.expertIntermediateDim = 8;
    torch::manual_seed(3);
    moelab::SparseMoeFfn reference(m);
    {
      torch::NoGradGuard g;
      reference->router->weight.zero_();
      reference->router->weight[0][0] = 10.0f;
      reference->router->weight[1][0] = -10.0f;
    }
    std::vector<torch::Tensor> inputs;
    for (int r = 0; r < 2; ++r) {
      auto x = torch::randn({6, 8});
      x.select(1, 0).fill_(r == 0 ? -2.0f : 2.0f);
      inputs.push_back(x);
    }
    // The reference: one process, each rank's tokens on their own, gradients summed.
    std::vector<torch::Tensor> refOut;
    for (auto& x : inputs) {
      auto y = reference->forward(x.clone().requires_grad_(true));
      (y * y).sum().backward();
      refOut.push_back(y.detach());
    }
    std::vector<torch::Tensor> outs(2), w1(2), w2(2), router(2);
    std::vector<int> expertGradients(2, 0);
    const std::string errors = onTwoRanks([&](moelab::DistributedContext& dist, int rank) {
      moelab::ExpertParallel ep(dist);
      moelab::SparseMoeFfn local(m);
      {
        torch::NoGradGuard g;
        auto mine = local->parameters(), theirs = reference->parameters();
        for (size_t i = 0; i < mine.size(); ++i) mine[i].copy_(theirs[i]);
      }
      local->setExpertParallel(&ep);
      QCOMPARE(local->experts->w1.size(0), int64_t(2));  // this rank's two experts only
      auto y = local->forward(inputs[size_t(rank)].clone().requires_grad_(true));
      (y * y).sum().backward();
      outs[size_t(rank)] = y.detach();
      expertGradients[size_t(rank)] =
          local->experts->w1.grad().defined() && local->experts->w2.grad().defined();
      w1[size_t(rank)] = local->experts->w1.grad().defined() ? local->experts->w1.grad().clone()
                                                             : torch::zeros_like(local->experts->w1);
      w2[size_t(rank)] = local->experts->w2.grad().defined() ? local->experts->w2.grad().clone()
                                                             : torch::zeros_like(local->experts->w2);
      router[size_t(rank)] = local->router->weight.grad().clone();
    });
    QVERIFY2(errors.empty(), errors.c_str());
    for (int r = 0; r < 2; ++r) QVERIFY(torch::allclose(outs[size_t(r)], refOut[size_t(r)], 1e-5, 1e-6));
    // Expert gradients live on their owners; side by side they are the one-process gradients.
    QVERIFY(torch::allclose(torch::cat({w1[0], w1[1]}), reference->experts->w1.grad(), 1e-5, 1e-6));
    QVERIFY(torch::allclose(torch::cat({w2[0], w2[1]}), reference->experts->w2.grad(), 1e-5, 1e-6));
    QVERIFY(torch::allclose(router[0] + router[1], reference->router->weight.grad(), 1e-5, 1e-6));
    QVERIFY(w1[1].abs().sum().item<double>() == 0);  // rank 1 computed nothing
    // ... yet its experts have a (zero) gradient, as the whole layer's weights do in one process:
    // AdamW decays and counts them every step, and a checkpoint's step counts agree across ranks.
    QCOMPARE(expertGradients, (std::vector<int>{1, 1}));
  }

  void aKilledRankEndsTheJobWithItsName() {
    auto cfg = writeConfig("long.json", R"({
      "model": {"architecture": "dense", "embed_dim": 32, "num_layers": 1, "num_heads": 2, "max_seq_length": 32},
      "data": {"tokenizer": "char", "num_train_samples": 32, "num_eval_samples": 8},
      "train": {"batch_size": 4, "epochs": 100000, "eval_every": 0, "log_every": 1}})");
    QProcess job;
    startCli(job,
             {"train", cfg, "--db", "kill.db", "--nproc", "2", "--threads", "2", "--dist-timeout", "10"});
    QVERIFY(job.waitForStarted());
    // Rank 1: the launcher's child with RANK=1, once the run has logged a few steps.
    QTRY_VERIFY_WITH_TIMEOUT(
        QFile::exists(dir_.path() + "/kill.db") && series(dir_.path() + "/kill.db", "train/loss").size() >= 3,
        60000);
    qint64 rank1 = 0;
    for (const QString& child : QDir("/proc/" + QString::number(job.processId()) + "/task")
                                    .entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
      QFile f("/proc/" + QString::number(job.processId()) + "/task/" + child + "/children");
      if (!f.open(QIODevice::ReadOnly)) continue;
      for (const auto& pid : f.readAll().split(' ')) {
        QFile env("/proc/" + pid.trimmed() + "/environ");
        if (!pid.trimmed().isEmpty() && env.open(QIODevice::ReadOnly) &&
            env.readAll().split('\0').contains("RANK=1"))
          rank1 = pid.trimmed().toLongLong();
      }
    }
    QVERIFY(rank1 > 0);
    QElapsedTimer t;
    t.start();
    QCOMPARE(::kill(pid_t(rank1), SIGKILL), 0);
    QVERIFY(job.waitForFinished(30000));
    QVERIFY2(t.elapsed() < 20000, qPrintable(QString::number(t.elapsed())));  // the timeout (10 s) + margin
    QCOMPARE(job.exitCode(), 1);
    const QString err = job.readAllStandardError();
    QVERIFY2(err.contains("rank 1") && err.contains("killed by signal 9"), qPrintable(err));
    std::string error;
    QCOMPARE(runStatus(dir_.path() + "/kill.db", 1, &error), std::string("failed"));
    QVERIFY2(QString::fromStdString(error).contains("rank 1") &&
                 QString::fromStdString(error).contains("--nproc 2"),
             error.c_str());
  }

  void gradientAllReduceSumsWhatEachRankHas() {
    // Parameter a: a gradient on both ranks; b: on rank 0 only; c: on neither. Buckets of one
    // parameter each, so they complete in different orders on the two ranks.
    std::vector<torch::Tensor> results(6);
    const std::string errors = onTwoRanks([&](moelab::DistributedContext& dist, int rank) {
      auto a = torch::ones({3}, torch::requires_grad()), b = torch::ones({2}, torch::requires_grad()),
           c = torch::ones({4}, torch::requires_grad());
      moelab::GradientAllReduce sync(dist, {a, b, c}, /*bucketBytes=*/4);
      if (sync.buckets() != 3) throw std::runtime_error("expected a bucket per parameter");
      sync.beginStep();
      auto loss = (a * float(rank + 1)).sum();
      if (rank == 0) loss = loss + (b * 5.0f).sum();
      loss.backward();
      sync.finish();
      results[size_t(3 * rank)] = a.grad().clone();
      results[size_t(3 * rank + 1)] = b.grad().defined() ? b.grad().clone() : torch::Tensor();
      results[size_t(3 * rank + 2)] = c.grad().defined() ? c.grad().clone() : torch::Tensor();
    });
    QVERIFY2(errors.empty(), errors.c_str());
    for (int rank = 0; rank < 2; ++rank) {
      QVERIFY(torch::equal(results[size_t(3 * rank)], torch::full({3}, 3.0f)));
      QVERIFY(results[size_t(3 * rank + 1)].defined());
      QVERIFY(torch::equal(results[size_t(3 * rank + 1)], torch::full({2}, 5.0f)));
      QVERIFY(!results[size_t(3 * rank + 2)].defined());  // no rank had one: none, as in one process
    }
  }
};

MOELAB_TEST_SUITE(DistributedTrainingTest)
#include "DistributedTrainingTest.moc"
