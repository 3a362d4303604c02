#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <fstream>
#include <sstream>

#include "TestSuite.h"
#include "io/MetricsCsv.h"
#include "report/HtmlReport.h"
#include "report/ReportWriter.h"
#include "report/RunComparison.h"
#include "store/ExperimentStore.h"
#include "util/Errors.h"

using namespace moelab;

namespace {
std::string slurp(const QString& path) {
  std::ifstream f(path.toStdString());
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}
nlohmann::json config(int experts, double lr) {
  return {{"model", {{"architecture", "gnn_moe"}, {"num_experts", experts}}},
          {"train", {{"learning_rate", lr}, {"batch_size", 8}}}};
}
}  // namespace

// Metric CSVs (long and wide), run comparisons and report folders.
class ReportTest : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;

 private slots:
  void metricsCsvLongAndWide() {
    const std::vector<MetricPoint> points = {{"train/loss", 1, 3.5, 100.0},
                                             {"train/loss", 2, 3.25, 101.0},
                                             {"val/loss", 2, -0.5, 102.0},
                                             {"train/lr", 1, 1e-3, 100.5}};
    std::ostringstream lng, wide;
    writeMetricsLong(lng, 7, points);
    QCOMPARE(lng.str(),
             std::string("run,key,step,value,wall_time\n7,train/loss,1,3.5,100\n7,train/loss,2,3.25,101\n"
                         "7,val/loss,2,-0.5,102\n7,train/lr,1,0.001,100.5\n"));
    writeMetricsWide(wide, points);
    // One row per step, keys sorted, a missing value is an empty cell, wall time the step's latest.
    QCOMPARE(wide.str(), std::string("step,wall_time,train/loss,train/lr,val/loss\n1,100.5,3.5,0.001,\n"
                                     "2,102,3.25,,-0.5\n"));
  }

  void comparisonMarksWhatDiffers() {
    ExperimentStore store((dir_.path() + "/cmp.db").toStdString());
    auto ca = config(4, 1e-3), cb = config(8, 1e-3);
    ca["data"]["dataset"] = "=1+1";
    cb["data"]["dataset"] = "wikitext-2";
    const int64_t a = store.createRun("sweep", "four experts", ca);
    const int64_t b = store.createRun("sweep", "eight experts", cb);
    store.logMetrics(a, {{"val/loss", 10, 4.0, 1}, {"val/loss", 20, 3.0, 2}, {"val/loss", 30, 3.5, 3}});
    store.logMetrics(b, {{"val/loss", 10, 3.8, 1}, {"train/loss", 10, 3.9, 1}});
    const RunComparison c = RunComparison::build(store, {a, b});
    QCOMPARE(c.runs.size(), size_t(2));
    auto row = [&](const std::string& section, const std::string& field) -> const RunComparison::Row& {
      for (const auto& r : c.rows)
        if (r.section == section && r.field == field) return r;
      throw std::runtime_error("no row " + section + " " + field);
    };
    QVERIFY(row("config", "model.num_experts").differs);
    QCOMPARE(row("config", "model.num_experts").values, (std::vector<std::string>{"4", "8"}));
    QVERIFY(!row("config", "train.learning_rate").differs);
    QCOMPARE(c.differingConfigFields(), size_t(2));
    QCOMPARE(row("final", "val/loss").values, (std::vector<std::string>{"3.5", "3.8"}));
    QCOMPARE(row("best", "val/loss").values, (std::vector<std::string>{"3", "3.8"}));
    QCOMPARE(row("final", "train/loss").values, (std::vector<std::string>{"", "3.9"}));
    std::ostringstream csv;
    c.writeCsv(csv);
    // User text reaches the cells: a formula-like value is neutralised.
    QVERIFY2(csv.str().find("config,data.dataset,'=1+1,wikitext-2,yes\n") != std::string::npos,
             csv.str().c_str());
    QVERIFY(csv.str().find("config,model.num_experts,4,8,yes\n") != std::string::npos);
    QVERIFY_THROWS_EXCEPTION(UserError, RunComparison::build(store, {a, 999}));
  }

  void reportFoldersAreSelfContained() {
    ExperimentStore store((dir_.path() + "/rep.db").toStdString());
    const int64_t a = store.createRun("exp", "<script>alert(1)</script>", config(4, 1e-3));
    const int64_t b = store.createRun("exp", "b", config(2, 1e-3));
    store.logMetrics(a, {{"train/loss", 1, 3.0, 1}, {"val/loss", 1, 2.9, 1}, {"val/perplexity", 1, 18.2, 1}});
    const QString runDir = dir_.path() + "/run-report";
    auto files = writeRunReport(store, a, runDir.toStdString(), {{"charts/x.png", "Train loss"}});
    QCOMPARE(files.front(), std::string("index.html"));
    const std::string html = slurp(runDir + "/index.html");
    QVERIFY(html.find("<script>") == std::string::npos);  // user text is escaped
    QVERIFY(html.find("&lt;script&gt;") != std::string::npos);
    QVERIFY(html.find("<img src=\"charts/x.png\"") != std::string::npos);
    QVERIFY(html.find("http") == std::string::npos);  // nothing remote
    QVERIFY(html.find("18.2") != std::string::npos);  // the evaluations table
    QVERIFY(
        slurp(runDir + "/metrics-wide.csv").rfind("step,wall_time,train/loss,val/loss,val/perplexity\n", 0) ==
        0);
    const QString cmpDir = dir_.path() + "/cmp-report";
    files = writeComparisonReport(store, {a, b}, cmpDir.toStdString());
    QVERIFY(QFile::exists(cmpDir + "/comparison.csv"));
    QVERIFY(QFile::exists(cmpDir + "/run-1-metrics-long.csv"));
    QVERIFY(slurp(cmpDir + "/index.html").find("class=\"differs\"") != std::string::npos);
    QVERIFY_THROWS_EXCEPTION(UserError, writeRunReport(store, a, "/proc/no-such-folder/x"));
  }

  void htmlEscaping() {
    QCOMPARE(HtmlReport::escape("a<b>&\"c'"), std::string("a&lt;b&gt;&amp;&quot;c&#39;"));
  }
};

MOELAB_TEST_SUITE(ReportTest)
#include "ReportTest.moc"
