#include <QtTest/QtTest>

#include "TestSuite.h"
#include "io/SafetensorsWriter.h"
#include "io/WeightExport.h"

using namespace moelab;

// The exported layout is checked the way a user would use it: numpy alone (tests/engine/io/
// numpy_forward.py, the README's loader plus a forward pass written from docs/WEIGHTS.md) must
// reproduce the loss LibTorch computes for the same tokens.
class WeightExportTest : public QObject {
  Q_OBJECT
  static nlohmann::json config(const std::string& arch) {
    return {{"model",
             {{"architecture", arch},
              {"embed_dim", 16},
              {"num_layers", 2},
              {"num_heads", 2},
              {"num_experts", 3},
              {"gnn_layers", 2},
              {"max_seq_length", 12},
              {"vocab_size", 37},
              {"vocab_pad_multiple", 8},
              {"dropout", 0.1}}}};
  }
 private slots:
  void numpyReproducesTheLossFromTheExportedFile() {
    for (std::string arch : {"gnn_moe", "dense"}) {
      torch::manual_seed(4);
      auto json = config(arch);
      auto cfg = ExperimentConfig::fromJson(json);
      LanguageModel model(cfg.model);
      {
        // Untrained LayerNorms are 1 and biases 0: perturb everything so a transposed or
        // misnamed tensor cannot go unnoticed.
        torch::NoGradGuard g;
        for (auto& p : model->parameters()) p.add_(torch::randn_like(p) * 0.05);
      }
      model->eval();
      auto inputs = torch::randint(37, {2, 12});
      auto targets = torch::randint(37, {2, 12});
      targets[1].slice(0, 9, 12).fill_(-100);
      double expected = 0;
      {
        torch::NoGradGuard g;
        expected = languageModelLoss(model->forward(inputs), targets).item<double>();
      }
      QTemporaryDir dir;
      const QString weights = dir.path() + "/w.safetensors", tokens = dir.path() + "/tokens.json";
      auto tensors = exportedTensors(model);
      writeSafetensors(weights.toStdString(), tensors, exportMetadata(model, cfg.json, 0, "best"));
      for (const auto& [name, t] : tensors) {
        QVERIFY2(name.find('_') == std::string::npos || name.find("adjacency_logits") != std::string::npos ||
                     name.find("_embedding") != std::string::npos ||
                     name.find("final_norm") != std::string::npos,
                 name.c_str());
        if (name.find("fc1.weight") != std::string::npos)  // [E, out=4D, in=D] or [4D, D]
          QCOMPARE(t.size(-2), int64_t(64));
      }
      auto toList = [](const torch::Tensor& t) {
        nlohmann::json rows = nlohmann::json::array();
        for (int64_t i = 0; i < t.size(0); ++i) {
          auto r = t[i].contiguous();
          rows.push_back(std::vector<int64_t>(r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.numel()));
        }
        return rows;
      };
      QFile f(tokens);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(QByteArray::fromStdString(
          nlohmann::json{{"inputs", toList(inputs)}, {"targets", toList(targets)}}.dump()));
      f.close();

      QProcess py;
      py.start(MOELAB_PYTHON,
               {QStringLiteral(MOELAB_SOURCE_DIR) + "/tests/engine/io/numpy_forward.py", weights, tokens});
      QVERIFY(py.waitForFinished(120000));
      QVERIFY2(py.exitCode() == 0, qPrintable("numpy_forward.py failed (needs python3-numpy, see "
                                              "packaging/install-deps.sh): " +
                                              py.readAllStandardError()));
      const double got = QString(py.readAllStandardOutput()).trimmed().toDouble();
      QVERIFY2(
          std::abs(got - expected) < 1e-4 * expected,
          (arch + ": numpy " + std::to_string(got) + " vs LibTorch " + std::to_string(expected)).c_str());
    }
  }
  void metadataMarksPaddingAndLayout() {
    auto cfg = ExperimentConfig::fromJson(config("gnn_moe"));
    LanguageModel model(cfg.model);
    auto meta = exportMetadata(model, cfg.json, 7, "last");
    QCOMPARE(QString::fromStdString(meta["vocab_size"]), QString("37"));
    QCOMPARE(QString::fromStdString(meta["padded_vocab_size"]), QString("40"));
    QVERIFY(QString::fromStdString(meta["vocab_padding"]).startsWith("rows 37..39"));
    QCOMPARE(QString::fromStdString(meta["checkpoint"]), QString("last"));
    QCOMPARE(QString::fromStdString(meta["moelab_layout"]), QString("moelab-weights-v1"));
  }
  void everySparseTensorHasALayoutRule() {
    auto json = config("sparse_moe");
    json["model"]["shared_experts"] = 1;
    json["model"]["moe_every"] = 2;
    auto cfg = ExperimentConfig::fromJson(json);
    LanguageModel model(cfg.model);
    std::map<std::string, std::vector<int64_t>> shapes;
    for (const auto& [name, t] : exportedTensors(model)) shapes[name] = t.sizes().vec();
    const int64_t D = 16, I = 64, E = 3;
    QCOMPARE(shapes.at("layers.1.moe.experts.w1.weight"), (std::vector<int64_t>{E, I, D}));
    QCOMPARE(shapes.at("layers.1.moe.experts.w2.weight"), (std::vector<int64_t>{E, D, I}));
    QCOMPARE(shapes.at("layers.1.moe.shared.w1.weight"), (std::vector<int64_t>{I, D}));
    QCOMPARE(shapes.at("layers.1.moe.router.weight"), (std::vector<int64_t>{E, D}));
    QCOMPARE(shapes.at("layers.1.moe.router.selection_bias"), (std::vector<int64_t>{E}));
    QCOMPARE(shapes.at("layers.0.attention.qkv.weight"), (std::vector<int64_t>{3 * D, D}));
    QCOMPARE(shapes.at("layers.0.norm1.weight"), (std::vector<int64_t>{D}));
    QCOMPARE(shapes.at("layers.0.ffn.w2.weight"), (std::vector<int64_t>{D, 2 * I}));
  }
};
MOELAB_TEST_SUITE(WeightExportTest)
#include "WeightExportTest.moc"
