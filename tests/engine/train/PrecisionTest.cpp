#include <QtTest/QtTest>
#include <cstdlib>

#include "TestSuite.h"
#include "engine/train/SmallRuns.h"
#include "train/Precision.h"
#include "train/Trainer.h"
#include "util/Errors.h"

using namespace moelab;

namespace {
ExperimentConfig tinyConfig(const std::string& architecture, const std::string& precision) {
  return ExperimentConfig::fromJson(
      {{"model", test::smallModel(architecture)},
       {"data", {{"tokenizer", "char"}, {"num_train_samples", 400}, {"num_eval_samples", 16}}},
       {"train",
        {{"batch_size", 8},
         {"learning_rate", 3e-3},
         {"epochs", 1},
         {"max_batches_per_epoch", 40},
         {"eval_every", 1000},
         {"log_every", 1},
         {"threads", 1},
         {"precision", precision},
         {"seed", 5}}}});
}

// Sets an environment variable for one scope.
struct ScopedEnv {
  std::string name;
  ScopedEnv(std::string n, const char* value) : name(std::move(n)) {
    if (value)
      setenv(name.c_str(), value, 1);
    else
      unsetenv(name.c_str());
  }
  ~ScopedEnv() { unsetenv(name.c_str()); }
};
}  // namespace

class PrecisionTest : public QObject {
  Q_OBJECT
 private slots:
  // bf16 on a CPU without native bf16 is refused before anything runs, with a message naming the
  // key and the way out; on a CPU with it, it is accepted.
  void bf16RefusedWithoutCpuSupport() {
    ScopedEnv env("MOELAB_ALLOW_EMULATED_BF16", nullptr);
    const auto cfg = tinyConfig("dense", "bf16");
    QCOMPARE(int(trainingPrecision(cfg)), int(Precision::Bf16));
    QCOMPARE(int(trainingPrecision(tinyConfig("dense", "fp32"))), int(Precision::Fp32));
    requirePrecisionSupported(tinyConfig("dense", "fp32"));  // fp32 is always fine
    if (!cpuBf16Support().empty()) {
      requirePrecisionSupported(cfg);
      return;
    }
    try {
      requirePrecisionSupported(cfg);
      QFAIL("bf16 accepted on a CPU without AVX-512 BF16 or AMX");
    } catch (const UserError& e) {
      const std::string m = e.what();
      QVERIFY2(m.find("train.precision = bf16") != std::string::npos, m.c_str());
      QVERIFY2(m.find("train.precision = fp32") != std::string::npos, m.c_str());
    }
  }

  // The bf16 path trains (autocast forward, fp32 weights and update): its loss curve stays near
  // fp32's over 40 steps for every architecture, and the weights stay fp32. Run with emulated bf16
  // where the CPU has none.
  void bf16LossCurveFollowsFp32() {
    ScopedEnv env("MOELAB_ALLOW_EMULATED_BF16", "1");
    for (const std::string arch : {"dense", "gnn_moe", "sparse_moe"}) {
      std::map<std::string, std::map<int64_t, double>> curves;
      for (const std::string precision : {"fp32", "bf16"}) {
        const auto cfg = tinyConfig(arch, precision);
        auto data = LmDataset::load(cfg, DataLocator(test::dataDir().toStdString()));
        QTemporaryDir dir;
        test::StepLosses rec;
        Trainer t(cfg, data, dir.path().toStdString(), &rec);
        QVERIFY(t.run() == RunOutcome::Finished);
        for (const auto& p : t.model()->parameters()) QCOMPARE(p.scalar_type(), torch::kFloat);
        curves[precision] = rec.loss;
      }
      const auto &a = curves["fp32"], &b = curves["bf16"];
      QCOMPARE(a.size(), b.size());
      QVERIFY(a.size() >= 40);
      double worst = 0;
      for (const auto& [step, loss] : a) worst = std::max(worst, std::abs(loss - b.at(step)) / loss);
      const std::string what = arch + ": worst relative gap " + std::to_string(worst) + ", last " +
                               std::to_string(a.rbegin()->second) + " vs " +
                               std::to_string(b.rbegin()->second);
      qInfo("%s", what.c_str());
      QVERIFY2(worst < 0.03, what.c_str());
      QVERIFY2(b.rbegin()->second < b.begin()->second - 0.5, what.c_str());  // it learned
    }
  }
};
MOELAB_TEST_SUITE(PrecisionTest)
#include "PrecisionTest.moc"
