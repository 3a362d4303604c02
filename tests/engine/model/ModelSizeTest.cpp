#include <QtTest/QtTest>

#include "TestSuite.h"
#include "model/LanguageModel.h"
#include "model/ModelSize.h"
#include "util/Errors.h"

using namespace moelab;

// The closed-form parameter count and memory estimate, from the config alone.
class ModelSizeTest : public QObject {
  Q_OBJECT

  static ModelConfig base(const std::string& arch) {
    ModelConfig c{arch, 48, 3, 4, 4, 2, 24, 301, 0.1};
    c.expertIntermediateDim = 40;
    return c;
  }
  // Every option that adds or removes a parameter, one at a time and some together.
  static std::vector<std::pair<std::string, ModelConfig>> variants() {
    std::vector<std::pair<std::string, ModelConfig>> v;
    for (std::string arch : {"gnn_moe", "dense", "sparse_moe"}) {
      auto add = [&](const std::string& name, auto change) {
        ModelConfig c = base(arch);
        change(c);
        v.push_back({arch + "/" + name, c});
      };
      add("base", [](ModelConfig&) {});
      add("gqa", [](ModelConfig& c) { c.numKvHeads = 2; });
      add("rope", [](ModelConfig& c) { c.position = "rope"; });
      add("rmsnorm", [](ModelConfig& c) { c.norm = "rmsnorm"; });
      add("qknorm+gate", [](ModelConfig& c) { c.qkNorm = c.gatedAttention = true; });
      add("nobias+tied", [](ModelConfig& c) { c.bias = false, c.tieEmbeddings = true; });
      add("vocabpad", [](ModelConfig& c) { c.vocabPadMultiple = 64; });
      add("gnn3", [](ModelConfig& c) { c.gnnLayers = 3, c.numExperts = 5; });
      add("shared+every2", [](ModelConfig& c) { c.sharedExperts = 2, c.moeEvery = 2, c.topK = 1; });
      add("modern", [](ModelConfig& c) {
        c.numKvHeads = 1, c.position = "rope", c.norm = "rmsnorm", c.qkNorm = c.gatedAttention = true,
        c.bias = false, c.tieEmbeddings = true, c.vocabPadMultiple = 128, c.sharedExperts = 1;
      });
    }
    return v;
  }

 private slots:
  void closedFormEqualsTheBuiltModel() {
    for (const auto& [name, cfg] : variants()) {
      const auto built = LanguageModel(cfg)->parameterBreakdown();
      const auto counted = countParameters(cfg);
      QVERIFY2(counted.total == built.total,
               (name + ": " + std::to_string(counted.total) + " vs " + std::to_string(built.total)).c_str());
      QVERIFY2(counted.experts == built.experts, name.c_str());
      QVERIFY2(counted.gnnCoupling == built.gnnCoupling, name.c_str());
      QVERIFY2(counted.other == built.other, name.c_str());
    }
  }
  void closedFormMatchesTheSeedsWithoutBuilding() {
    ModelConfig seed{"gnn_moe", 256, 4, 8, 4, 2, 128, 50257, 0.1};
    QCOMPARE(countParameters(seed).total, int64_t(39773401));
    // A 1.7B-parameter gnn_moe is counted without allocating 7 GB.
    ModelConfig big{"gnn_moe", 2048, 8, 16, 4, 2, 1024, 50257, 0.1};
    QVERIFY(countParameters(big).total > 1'500'000'000);
  }
  void flopsAreTheModelsOwn() {
    for (const auto& [name, cfg] : variants())
      QCOMPARE(forwardFlopsPerToken(cfg, 24), LanguageModel(cfg)->forwardFlopsPerToken(24));
  }
  void memoryEstimateAddsUpAndGrowsWithBatch() {
    ModelConfig seed{"gnn_moe", 256, 4, 8, 4, 2, 128, 50257, 0.1};
    auto m32 = estimateTrainingMemory(seed, 32), m64 = estimateTrainingMemory(seed, 64);
    QCOMPARE(m32.weightsBytes, 4.0 * 39773401);
    QCOMPARE(m32.optimizerBytes, 2 * m32.weightsBytes);  // AdamW: two fp32 moments
    QVERIFY(std::abs(m64.activationsBytes - 2 * m32.activationsBytes) < 1.0);
    // Logits at GPT-2's vocabulary dominate small models: 32 x 128 tokens x 50257 x 3 x 4 bytes.
    QVERIFY(m32.activationsBytes > 32.0 * 128 * 50257 * 3 * 4);
    QVERIFY(m32.totalBytes() < 20e9);
  }
  void oneRankHoldsItsShareOfBatchAndExperts() {
    // The seed MoE Transformer's shape, smaller: 8 ranks, 8-way expert parallel.
    ModelConfig m{"sparse_moe", 256, 4, 8, 64, 0, 128, 50257, 0.0};
    m.topK = 2;
    m.expertIntermediateDim = 128;
    m.expertParallel = 8;
    const auto whole = estimateTrainingMemory(m, 64), rank = estimateTrainingMemory(m, 64, 8);
    const double routed = 4.0 * 64 * 3 * 256 * 128;  // MoE layers x experts x (w1, w3, w2)
    QCOMPARE(rank.parameters, whole.parameters);     // the model's size is still the whole
    QVERIFY(std::abs((whole.weightsBytes - rank.weightsBytes) - 4.0 * routed * 7 / 8) < 1.0);
    QVERIFY(std::abs(rank.optimizerBytes - 2 * rank.weightsBytes) < 1.0);
    QVERIFY(std::abs(rank.activationsBytes - whole.activationsBytes / 8) < 1.0);  // 8 of 64 samples
    // Data parallel alone: every rank holds every expert.
    m.expertParallel = 1;
    QCOMPARE(estimateTrainingMemory(m, 64, 8).weightsBytes, whole.weightsBytes);
  }
  void oversizeIsRefusedWithNumbersAndWhatToChange() {
    ModelConfig huge{"gnn_moe", 256, 4, 8, 100000, 2, 128, 50257, 0.1};
    const auto need = estimateTrainingMemory(huge, 32);
    try {
      requireTrainingFits(need, 24e9, 20e9, "training");
      QFAIL("100,000 experts accepted on a 24 GB machine");
    } catch (const UserError& e) {
      const std::string msg = e.what();
      QVERIFY2(msg.find("24.0 GB") != std::string::npos, msg.c_str());
      QVERIFY2(msg.find("weights") != std::string::npos, msg.c_str());
      QVERIFY2(msg.find("model.num_experts") != std::string::npos, msg.c_str());
    }
    // Activations dominate: the advice is the batch and sequence length.
    ModelConfig longSeq{"dense", 64, 2, 4, 1, 1, 8192, 1000, 0.1};
    try {
      requireTrainingFits(estimateTrainingMemory(longSeq, 64), 24e9, 20e9, "training");
      QFAIL("a 8192-token attention at batch 64 accepted on a 24 GB machine");
    } catch (const UserError& e) {
      QVERIFY2(std::string(e.what()).find("train.batch_size") != std::string::npos, e.what());
    }
    // Fits in the machine but not in what is free now: a warning, not a refusal.
    ModelConfig seed{"gnn_moe", 256, 4, 8, 4, 2, 128, 50257, 0.1};
    const auto fits = estimateTrainingMemory(seed, 32);
    QVERIFY(requireTrainingFits(fits, 24e9, 20e9, "training").empty());
    QVERIFY(requireTrainingFits(fits, 24e9, fits.totalBytes() / 2, "training").rfind("warning:", 0) == 0);
  }
};

MOELAB_TEST_SUITE(ModelSizeTest)
#include "ModelSizeTest.moc"
