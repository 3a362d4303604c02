#include <sqlite3.h>

#include <QtTest/QtTest>

#include "TestSuite.h"
#include "config/ExperimentConfig.h"
#include "engine/cli/CliHarness.h"
#include "store/ExperimentStore.h"

// Drives the real moelab-cli binary: exit codes, messages and the run/metrics/export round trip.
class CliTest : public CliHarness {
  Q_OBJECT
  // A run's train/loss rows as `metrics export` writes them (header first; empty if it failed).
  QStringList trainLossRows(const QString& run, const QString& db) {
    const auto r = cli({"metrics", "export", "--run", run, "--key", "train/loss", "--csv", "-", "--db", db});
    if (r.code != 0) return {};
    return r.out.split('\n', Qt::SkipEmptyParts);
  }
 private slots:
  void badConfigExitsTwoWithThePath() {
    auto cfg = writeConfig("bad.json", R"({"model": {"num_experts": 0}})");
    auto r = cli({"params", cfg});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("model.num_experts: expected integer >= 1, got 0"), qPrintable(r.err));
    QCOMPARE(cli({"train", cfg}).code, 2);
    QVERIFY(!QFile::exists(dir_.path() + "/moelab.db"));  // a bad config leaves no database behind
    QCOMPARE(cli({"train", "--resume", "1", "--db", "never.db"}).code, 2);
    QVERIFY(!QFile::exists(dir_.path() + "/never.db"));
    QCOMPARE(cli({"frobnicate"}).code, 2);
    auto help = cli({"train", "--help"});  // every command documents its options
    QCOMPARE(help.code, 0);
    QVERIFY(help.out.contains("--resume") && help.out.contains("--name") && !help.out.contains("simulate"));
    QVERIFY(cli({"metrics", "--help"}).out.contains("--key"));
    QVERIFY(cli({"eval", "-h"}).out.contains("--batch-size"));
  }
  void dataListVerifiesChecksumsAndNamesTheFolder() {
    // A copy of the Tiny Shakespeare folder, one byte changed.
    QDir(dir_.path()).mkpath("data/tinyshakespeare");
    const QString copy = dir_.path() + "/data/tinyshakespeare/input.txt";
    QFile::remove(copy);
    QVERIFY(QFile::copy(moelab::test::dataDir() + "/tinyshakespeare/input.txt", copy));
    auto ok = cli({"data", "list", "--data-dir", dir_.path() + "/data"});
    QCOMPARE(ok.code, 0);
    QVERIFY2(ok.out.contains("ok (SHA-256 verified) in " + dir_.path() + "/data"), qPrintable(ok.out));
    QFile f(copy);
    QVERIFY(f.open(QIODevice::ReadWrite));
    f.seek(1000);
    f.write("#");
    f.close();
    auto bad = cli({"data", "list", "--data-dir", dir_.path() + "/data"});
    QCOMPARE(bad.code, 1);
    QVERIFY2(bad.out.contains("DAMAGED: SHA-256 mismatch") && bad.out.contains("data fetch tinyshakespeare"),
             qPrintable(bad.out));
    auto quick = cli({"data", "list", "--quick", "--data-dir", dir_.path() + "/data"});
    QCOMPARE(quick.code, 0);
    QVERIFY(quick.out.contains("present, unverified"));
  }
  void oversizeModelIsRefusedBeforeAnythingIsAllocated() {
    auto cfg = writeConfig("huge.json", R"({"model": {"num_experts": 100000}})");
    auto params = cli({"params", cfg, "--json"});  // closed form: answers without building it
    QCOMPARE(params.code, 0);
    auto j = nlohmann::json::parse(params.out.toStdString());
    QVERIFY(j["total"].get<int64_t>() > 300'000'000'000);
    QVERIFY(j["training_memory_bytes"]["total"].get<double>() > 1e12);
    auto r = cli({"train", cfg, "--db", "huge.db"});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("GB of memory") && r.err.contains("model.num_experts"), qPrintable(r.err));
    QVERIFY(!r.err.contains("Exception raised from"));  // no LibTorch backtrace
    QVERIFY(!QFile::exists(dir_.path() + "/huge.db"));
  }
  void missingDataExitsTwoWithFetchCommand() {
    auto cfg = writeConfig("ts.json", R"({"data": {"dataset": "wikitext-103"}})");
    auto r = cli({"train", cfg, "--max-steps", "1"});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("moelab-cli data fetch wikitext-103"));
  }
  void simulateWritesJsonAndCsvAndRejectsBadScenarios() {
    auto sc = writeConfig("sc.json", R"({"cluster": {"preset": "dgx-h100", "nodes": 2},
      "model": {"num_experts": 32}, "traffic": {"kind": "zipf"}, "sim": {"steps": 10}})");
    auto r = cli({"simulate", sc, "--json", "--csv", "cmp.csv", "--set", "traffic.zipf_s=1.5"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    auto j = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(j["step_ms"].toObject()["samples"].toArray().size(), 10);
    QCOMPARE(j["scenario"].toObject()["traffic"].toObject()["zipf_s"].toDouble(), 1.5);
    QFile csv(dir_.path() + "/cmp.csv");
    QVERIFY(csv.open(QIODevice::ReadOnly));
    QVERIFY(csv.readLine().startsWith("scenario,algorithm,mean_ms,p50_ms,p95_ms,p99_ms"));
    auto bad = cli({"simulate", sc, "--set", "model.top_k=0"});
    QCOMPARE(bad.code, 2);
    QVERIFY(bad.err.contains("model.top_k: expected integer in [1, 64], got 0"));
  }
  // The front starts without LibTorch: a moelab-cli copied away from its engine module still
  // simulates and prints its version, and a command that trains names the missing module (exit 1).
  void frontCommandsRunWithoutTheEngineModule() {
    const QString lone = dir_.path() + "/lone/moelab-cli";
    QVERIFY(QDir().mkpath(dir_.path() + "/lone"));
    QVERIFY(QFile::copy(MOELAB_CLI, lone));
    const auto run = [&](const QStringList& args) {
      QProcess p;
      p.setWorkingDirectory(dir_.path());
      p.start(lone, args);
      p.waitForFinished(60000);
      return Result{p.exitCode(), p.readAllStandardOutput(), p.readAllStandardError()};
    };
    auto version = run({"--version"});
    QCOMPARE(version.code, 0);
    QVERIFY2(
        QRegularExpression(R"(^moelab-cli \d+\.\d+\.\d+ \(commit [0-9a-f]{7,}(-dirty)?\)\nLibTorch \d+\.\d+)")
            .match(version.out)
            .hasMatch(),
        qPrintable(version.out));
    QVERIFY2(version.out.contains("\nBLAS "), qPrintable(version.out));
    auto sc =
        writeConfig("small.json", R"({"cluster": {"preset": "dgx-h100", "nodes": 1}, "sim": {"steps": 3}})");
    auto sim = run({"simulate", sc, "--json"});
    QVERIFY2(sim.code == 0, qPrintable(sim.err));
    QVERIFY(run({"config-help"}).out.contains("model.num_experts"));
    auto cfg = writeConfig("ok.json", R"({"data": {"tokenizer": "char"}})");
    auto train = run({"train", cfg});
    QCOMPARE(train.code, 1);
    QVERIFY2(
        train.err.contains("training engine module is missing") && train.err.contains("moelab-engine.so"),
        qPrintable(train.err));
    QVERIFY(!QFile::exists(dir_.path() + "/moelab.db"));
  }
  void tokenizeMatchesGpt2() {
    auto r = cli({"tokenize", "--tokenizer", "gpt2"}, "Hello world");
    QCOMPARE(r.code, 0);
    QCOMPARE(r.out.trimmed(), QString("[15496,995]"));
  }
  void trainListExportEvalRoundTrip() {
    auto cfg = writeConfig("tiny.json", R"({
      "model": {"embed_dim": 32, "num_layers": 1, "num_heads": 2, "num_experts": 2, "gnn_layers": 1, "max_seq_length": 32},
      "data": {"tokenizer": "char", "num_train_samples": 64, "num_eval_samples": 16},
      "train": {"batch_size": 8, "epochs": 1, "eval_every": 4, "log_every": 1}})");
    auto t = cli({"train", cfg, "--max-steps", "6", "--db", "runs.db"});
    QVERIFY2(t.code == 0, qPrintable(t.err));
    QVERIFY(t.err.contains("step 6/6"));

    const QByteArray dbBefore = fileBytes("runs.db"), walBefore = fileBytes("runs.db-wal");
    auto list = cli({"runs", "list", "--json", "--db", "runs.db"});
    QCOMPARE(list.code, 0);
    auto runs = QJsonDocument::fromJson(list.out.toUtf8()).array();
    QCOMPARE(runs.size(), 1);
    QCOMPARE(runs[0].toObject()["status"].toString(), QString("finished"));
    QCOMPARE(runs[0].toObject()["step"].toInt(), 6);

    auto show = cli({"runs", "show", "1", "--json", "--db", "runs.db"});
    auto run = QJsonDocument::fromJson(show.out.toUtf8()).object();
    QCOMPARE(run["provenance"].toObject()["tokenizer"].toObject()["name"].toString(), QString("char"));
    QCOMPARE(run["provenance"].toObject()["files"].toArray().size(), 3);
    QVERIFY(run["artifacts"].toArray().size() >= 2);

    QCOMPARE(cli({"metrics", "export", "--run", "1", "--csv", "m.csv", "--db", "runs.db"}).code, 0);
    QFile csv(dir_.path() + "/m.csv");
    QVERIFY(csv.open(QIODevice::ReadOnly));
    auto lines = QString(csv.readAll()).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines[0], QString("run,key,step,value,wall_time"));
    QCOMPARE(lines.filter(",train/loss,").size(), 6);

    auto ev = cli({"eval", "--run", "1", "--split", "test", "--json", "--no-store", "--db", "runs.db"});
    QVERIFY2(ev.code == 0, qPrintable(ev.err));
    auto e = QJsonDocument::fromJson(ev.out.toUtf8()).object();
    QVERIFY(e["loss"].toDouble() > 0);
    QVERIFY(e["tokens"].toInt() > 0);

    QCOMPARE(cli({"export-weights", "--run", "1", "--out", "w.safetensors", "--db", "runs.db"}).code, 0);
    // Wide CSV, a second run to compare with, report folders.
    auto wide = cli({"metrics", "export", "--run", "1", "--csv", "-", "--wide", "--db", "runs.db"});
    QVERIFY(wide.out.startsWith("step,wall_time,"));
    QCOMPARE(wide.out.split('\n', Qt::SkipEmptyParts).size(), 1 + 6);    // one row per step
    QCOMPARE(cli({"runs", "compare", "1", "--db", "runs.db"}).code, 2);  // needs two runs
    QCOMPARE(cli({"report", "--run", "1", "--out", "rep", "--db", "runs.db"}).code, 0);
    QVERIFY(QFile::exists(dir_.path() + "/rep/index.html"));
    QVERIFY(QFile::exists(dir_.path() + "/rep/metrics-wide.csv"));
    QCOMPARE(cli({"report", "--run", "99", "--out", "rep2", "--db", "runs.db"}).code, 2);
    // Reading commands never write to the database (they work on read-only files too).
    QVERIFY(fileBytes("runs.db") == dbBefore && fileBytes("runs.db-wal") == walBefore);
    QFile(dir_.path() + "/empty.db").open(QIODevice::WriteOnly);
    auto empty = cli({"runs", "list", "--db", "empty.db"});
    QCOMPARE(empty.code, 2);
    QVERIFY2(empty.err.contains("empty file"), qPrintable(empty.err));
    QCOMPARE(QFileInfo(dir_.path() + "/empty.db").size(), qint64(0));  // no schema written into it
    QFile st(dir_.path() + "/w.safetensors");
    QVERIFY(st.open(QIODevice::ReadOnly));
    QByteArray all = st.readAll();
    quint64 n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | quint8(all[i]);
    auto header = QJsonDocument::fromJson(all.mid(8, int(n))).object();
    auto head = header["head.weight"].toObject();
    QCOMPARE(head["dtype"].toString(), QString("F32"));
    QCOMPARE(head["shape"].toArray()[1].toInt(), 32);
    qint64 end = 0;
    for (auto it = header.begin(); it != header.end(); ++it)
      if (it.key() != "__metadata__")
        end = std::max<qint64>(end, qint64(it.value().toObject()["data_offsets"].toArray()[1].toDouble()));
    QCOMPARE(qint64(all.size()), qint64(8 + n + end));

    // A damaged copy of the checkpoint (with its digest sidecar) is refused with exit 2.
    QVERIFY(QFile::copy(dir_.path() + "/runs-runs/1/best.pt", dir_.path() + "/bad.pt"));
    QVERIFY(QFile::copy(dir_.path() + "/runs-runs/1/best.pt.sha256", dir_.path() + "/bad.pt.sha256"));
    QFile bad(dir_.path() + "/bad.pt");
    QVERIFY(bad.open(QIODevice::ReadWrite) && bad.seek(bad.size() / 2));
    bad.write(QByteArray(4096, char(0xFF)));
    bad.close();
    auto damaged = cli({"eval", "--checkpoint", "bad.pt", "--split", "test"});
    QCOMPARE(damaged.code, 2);
    QVERIFY2(damaged.err.contains("is damaged"), qPrintable(damaged.err));

    QCOMPARE(cli({"runs", "show", "99", "--db", "runs.db"}).code, 2);
    QCOMPARE(cli({"runs", "list", "--db", "missing.db"}).code, 2);
    QCOMPARE(cli({"train", "--resume", "1", "--db", "runs.db"}).code, 2);  // already finished
  }
  void resumeRecordsChangesAndRefusesThoseThatBreakIt() {
    auto cfg = writeConfig("ext.json", R"({
      "model": {"embed_dim": 32, "num_layers": 1, "num_heads": 2, "num_experts": 2, "gnn_layers": 1, "max_seq_length": 32},
      "data": {"tokenizer": "char", "num_train_samples": 64, "num_eval_samples": 16},
      "train": {"batch_size": 8, "epochs": 2, "eval_every": 3, "log_every": 1}})");
    QCOMPARE(cli({"train", cfg, "--max-steps", "6", "--db", "ext.db"}).code, 0);
    auto batch = cli({"train", "--resume", "1", "--db", "ext.db", "--set", "train.batch_size=4", "--extend"});
    QCOMPARE(batch.code, 2);
    QVERIFY2(batch.err.contains("--resume cannot change train.batch_size 8 -> 4"), qPrintable(batch.err));
    auto shorter = cli({"train", "--resume", "1", "--db", "ext.db", "--max-steps", "4", "--extend"});
    QCOMPARE(shorter.code, 2);  // refused by the trainer: the run stays as it was
    QCOMPARE(QJsonDocument::fromJson(cli({"runs", "show", "1", "--json", "--db", "ext.db"}).out.toUtf8())
                 .object()["status"]
                 .toString(),
             QString("finished"));
    auto noExtend = cli({"train", "--resume", "1", "--db", "ext.db", "--max-steps", "10"});
    QCOMPARE(noExtend.code, 2);
    QVERIFY2(noExtend.err.contains("--extend"), qPrintable(noExtend.err));
    auto ext =
        cli({"train", "--resume", "1", "--db", "ext.db", "--max-steps", "10", "--extend", "--threads", "1"});
    QVERIFY2(ext.code == 0, qPrintable(ext.err));
    QVERIFY2(ext.err.contains("config changed on resume: train.max_steps 6 -> 10, train.threads 0 -> 1"),
             qPrintable(ext.err));
    auto run =
        QJsonDocument::fromJson(cli({"runs", "show", "1", "--json", "--db", "ext.db"}).out.toUtf8()).object();
    QCOMPARE(run["status"].toString(), QString("finished"));
    QCOMPARE(run["step"].toInt(), 10);
    QCOMPARE(run["config"].toObject()["train"].toObject()["max_steps"].toInt(), 10);
    auto history = run["config_changes"].toArray();
    QCOMPARE(history.size(), 1);
    QCOMPARE(history[0].toObject()["step"].toInt(), 6);
    QCOMPARE(history[0].toObject()["changes"].toArray()[0].toObject()["key"].toString(),
             QString("train.max_steps"));
    QVERIFY(history[0].toObject()["note"].toString().contains("--extend"));
    QCOMPARE(run["params"].toObject()["train.max_steps"].toString(), QString("10"));

    auto w = cli(
        {"export-weights", "--run", "1", "--which", "last", "--out", "ext.safetensors", "--db", "ext.db"});
    QVERIFY2(w.code == 0, qPrintable(w.err));
    QVERIFY2(w.err.contains("(last, step 10)"), qPrintable(w.err));
  }
  void runWithoutACheckpointRestartsFromStepZeroInItsRow() {
    // A run killed before its first save: interrupted, a folder but no checkpoint, some metrics.
    auto cfg = moelab::ExperimentConfig::fromJson(nlohmann::json::parse(R"({
      "model": {"embed_dim": 32, "num_layers": 1, "num_heads": 2, "num_experts": 2, "gnn_layers": 1, "max_seq_length": 32},
      "data": {"tokenizer": "char", "num_train_samples": 64, "num_eval_samples": 16},
      "train": {"batch_size": 8, "epochs": 1, "eval_every": 100, "log_every": 1, "max_steps": 5}})"));
    {
      moelab::ExperimentStore store((dir_.path() + "/zero.db").toStdString());
      // Left `running` by a process this test cannot tell is gone (its own pid): needs --force.
      auto id = store.createRun("zero", "zero", cfg.json, "running");
      store.setCheckpointDir(id, (dir_.path() + "/zero-runs/1").toStdString());
      store.logMetrics(id, {{"train/loss", 1, 9.9, 1.0}, {"train/loss", 2, 9.8, 2.0}});
    }
    auto refused = cli({"train", "--resume", "1", "--db", "zero.db"});
    QCOMPARE(refused.code, 2);
    QVERIFY2(refused.err.contains("resume with --force"), qPrintable(refused.err));
    auto r = cli({"train", "--resume", "1", "--db", "zero.db", "--force"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY2(r.err.contains("has no checkpoint (stopped before its first save): restarting it from step 0"),
             qPrintable(r.err));
    auto run = QJsonDocument::fromJson(cli({"runs", "show", "1", "--json", "--db", "zero.db"}).out.toUtf8())
                   .object();
    QCOMPARE(run["status"].toString(), QString("finished"));
    QCOMPARE(run["step"].toInt(), 5);
    QVERIFY(QFile::exists(dir_.path() + "/zero-runs/1/last.pt"));
  }
  void killedRunIsMarkedInterruptedAndResumesToTheSameSteps() {
    auto cfg = writeConfig("kill.json", R"({
      "model": {"embed_dim": 32, "num_layers": 1, "num_heads": 2, "num_experts": 2, "gnn_layers": 1, "max_seq_length": 32},
      "data": {"tokenizer": "char", "num_train_samples": 400, "num_eval_samples": 16},
      "train": {"batch_size": 8, "epochs": 1, "eval_every": 5, "log_every": 1, "max_steps": 40}})");
    QProcess p;
    startCli(p, {"train", cfg, "--db", "kill.db", "--threads", "1"});
    QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(dir_.path() + "/kill-runs/1/last.pt"), 120000);
    p.kill();  // SIGKILL: no chance to clean up
    p.waitForFinished();

    sqlite3* db;
    QCOMPARE(sqlite3_open((dir_.path() + "/kill.db").toUtf8().constData(), &db), SQLITE_OK);
    sqlite3_stmt* st;
    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr);
    sqlite3_step(st);
    QCOMPARE(QString(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))), QString("ok"));
    sqlite3_finalize(st);
    sqlite3_close(db);

    auto show = cli({"runs", "show", "1", "--json", "--db", "kill.db"});
    QCOMPARE(QJsonDocument::fromJson(show.out.toUtf8()).object()["status"].toString(),
             QString("interrupted"));
    auto resumed = cli({"train", "--resume", "1", "--db", "kill.db"});
    QVERIFY2(resumed.code == 0, qPrintable(resumed.err));
    QVERIFY(resumed.err.contains("resuming run 1 from step"));
    const QStringList rows = trainLossRows("1", "kill.db");
    QCOMPARE(rows.size(), 41);  // header + exactly one row per step 1..40
    for (int s = 1; s <= 40; ++s) QCOMPARE(rows[s].split(',')[2].toInt(), s);
    auto after = cli({"runs", "show", "1", "--json", "--db", "kill.db"});
    QCOMPARE(QJsonDocument::fromJson(after.out.toUtf8()).object()["status"].toString(), QString("finished"));
  }
  void killedSweepResumesSkippingFinishedPointsAndNothingRunsTwice() {
    writeConfig("sweep-base.json", R"({
      "model": {"embed_dim": 32, "num_layers": 1, "num_heads": 2, "num_experts": 2, "gnn_layers": 1, "max_seq_length": 32},
      "data": {"tokenizer": "char", "num_train_samples": 400, "num_eval_samples": 16},
      "train": {"batch_size": 8, "epochs": 1, "eval_every": 10, "log_every": 1, "max_steps": 30, "checkpoint_every": 5}})");
    auto spec = writeConfig("seeds.json", R"({"name": "seeds", "base": "sweep-base.json",
      "parameters": [{"key": "train.seed", "values": [1, 2, 3]}]})");
    auto preview = cli({"sweep", "preview", spec});
    QCOMPARE(preview.code, 0);
    QVERIFY2(preview.out.contains("3 points (0 invalid)"), qPrintable(preview.out));
    QProcess p;
    startCli(p, {"sweep", "run", spec, "--db", "sw.db", "--threads", "1"});
    // Point 0 has finished and point 1 has saved a checkpoint: kill the sweep mid-run.
    QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(dir_.path() + "/sw-runs/2/last.pt"), 180000);
    p.kill();
    p.waitForFinished();

    auto listed = cli({"sweep", "list", "--json", "--db", "sw.db"});
    auto sweeps = QJsonDocument::fromJson(listed.out.toUtf8()).array();
    QCOMPARE(sweeps.size(), 1);
    QCOMPARE(sweeps[0].toObject()["status"].toString(), QString("interrupted"));
    QCOMPARE(sweeps[0].toObject()["points"].toArray()[0].toObject()["status"].toString(),
             QString("finished"));

    auto resumed = cli({"sweep", "resume", "1", "--db", "sw.db"});
    QVERIFY2(resumed.code == 0, qPrintable(resumed.err));
    QVERIFY2(resumed.err.contains("3 points, 1 done, 2 to run"), qPrintable(resumed.err));
    QVERIFY2(resumed.err.contains("#1 run 2 resumed"), qPrintable(resumed.err));
    QVERIFY(resumed.err.contains("#2 run 3 started"));
    QVERIFY(!resumed.err.contains("#0 run"));
    auto show =
        QJsonDocument::fromJson(cli({"sweep", "show", "1", "--json", "--db", "sw.db"}).out.toUtf8()).object();
    QCOMPARE(show["status"].toString(), QString("finished"));
    const auto points = show["points"].toArray();
    QCOMPARE(points.size(), 3);
    for (int i = 0; i < 3; ++i) {
      QCOMPARE(points[i].toObject()["status"].toString(), QString("finished"));
      QCOMPARE(points[i].toObject()["run_id"].toInt(), i + 1);  // one run per point, none run twice
    }
    QCOMPARE(
        QJsonDocument::fromJson(cli({"runs", "list", "--json", "--db", "sw.db"}).out.toUtf8()).array().size(),
        3);
    // The resumed run has exactly one train/loss row per step.
    QCOMPARE(trainLossRows("2", "sw.db").size(), 31);
    auto exported = cli({"sweep", "export", "1", "--csv", "-", "--db", "sw.db"});
    QCOMPARE(exported.code, 0);
    QVERIFY(exported.out.startsWith(
        "embed_dim,num_layers,num_experts,batch_size,learning_rate,gnn_layers,dropout_rate"));
    QCOMPARE(cli({"sweep", "resume", "9", "--db", "sw.db"}).code, 2);
  }
};
MOELAB_TEST_SUITE(CliTest)
#include "CliTest.moc"
