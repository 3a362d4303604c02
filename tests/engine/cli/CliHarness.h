#pragma once
#include <QtTest/QtTest>

#include "TestSuite.h"

// Runs the real moelab-cli binary in a temporary folder with the test data: what the CLI suites
// share (exit code, stdout, stderr; config files written into the folder).
class CliHarness : public QObject {
 protected:
  QTemporaryDir dir_;
  struct Result {
    int code;
    QString out, err;
  };
  void startCli(QProcess& p, const QStringList& args) {
    p.setWorkingDirectory(dir_.path());
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("MOELAB_DATA_DIR", moelab::test::dataDir());
    p.setProcessEnvironment(env);
    p.start(MOELAB_CLI, args);
  }
  Result cli(const QStringList& args, const QByteArray& stdinData = {}) {
    QProcess p;
    startCli(p, args);
    p.write(stdinData);
    p.closeWriteChannel();
    p.waitForFinished(600000);
    return {p.exitCode(), p.readAllStandardOutput(), p.readAllStandardError()};
  }
  QString writeConfig(const QString& name, const QByteArray& json) {
    QFile f(dir_.path() + "/" + name);
    f.open(QIODevice::WriteOnly);
    f.write(json);
    return f.fileName();
  }
  // A tiny sparse_moe run (2 layers, 4 experts, top-2, char tokenizer, 6 steps) as run 1 of `db`,
  // its config in sparse.json: what the analysis suites profile and evaluate.
  Result trainTinySparseRun(const QString& db) {
    writeConfig("sparse.json", R"({
      "model": {"architecture": "sparse_moe", "embed_dim": 32, "num_layers": 2, "num_heads": 2, "num_experts": 4,
                "top_k": 2, "max_seq_length": 32, "expert_intermediate_dim": 32},
      "data": {"tokenizer": "char", "num_train_samples": 64, "num_eval_samples": 24},
      "train": {"batch_size": 8, "epochs": 1, "eval_every": 4, "log_every": 2}})");
    return cli({"train", "sparse.json", "--max-steps", "6", "--db", db});
  }
  QByteArray fileBytes(const QString& name) {
    QFile f(dir_.path() + "/" + name);
    f.open(QIODevice::ReadOnly);
    return f.readAll();
  }
};
