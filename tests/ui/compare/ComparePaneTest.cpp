#include <QCheckBox>
#include <QComboBox>
#include <QImage>
#include <QPushButton>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "TestSuite.h"
#include "charts/MetricChart.h"
#include "compare/ComparePane.h"
#include "export/ChartImage.h"
#include "export/ExportService.h"
#include "store/ExperimentStore.h"

using namespace moelab;
using namespace moelab::ui;

// The compare pane and the exports, driven through their widgets.
class ComparePaneTest : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString db_;
  int64_t a_ = 0, b_ = 0, c_ = 0;

 private slots:
  void initTestCase() {
    db_ = dir_.path() + "/cmp.db";
    ExperimentStore s(db_.toStdString());
    auto cfg = [](int experts) {
      return nlohmann::json{{"model", {{"architecture", "gnn_moe"}, {"num_experts", experts}}},
                            {"train", {{"seed", 1}}}};
    };
    a_ = s.createRun("e", "four", cfg(4));
    b_ = s.createRun("e", "eight", cfg(8));
    c_ = s.createRun("e", "eight again", cfg(8));
    for (int64_t r : {a_, b_, c_}) {
      std::vector<MetricPoint> rows;
      for (int step = 1; step <= 50; ++step)
        rows.push_back({"train/loss", step, 5.0 - 0.01 * step * double(r), 1.0 * step});
      rows.push_back({"val/loss", 50, 4.0 - 0.1 * double(r), 50});
      s.logMetrics(r, rows);
    }
  }

  void overlaysCurvesAndHighlightsDifferences() {
    ExportService exports;
    ComparePane pane(&exports);
    pane.resize(1000, 700);
    pane.show();
    pane.setDatabase(db_);
    QSignalSpy loaded(&pane, &ComparePane::loaded);
    pane.compare({a_, b_, c_});
    QVERIFY(loaded.wait(10000));
    // One curve per run for the chosen metric.
    QCOMPARE(pane.metricBox()->currentText(), QString("train/loss"));
    QCOMPARE(pane.chart()->seriesNames().size(), 3);
    QCOMPARE(pane.chart()->pointCount("run 1 · four"), 50);
    pane.metricBox()->setCurrentText("val/loss");
    QCOMPARE(pane.chart()->pointCount("run 2 · eight"), 1);
    // Only the differing config field is listed (by default), highlighted.
    QTableWidget* t = pane.table();
    QList<int> configRows;
    for (int r = 0; r < t->rowCount(); ++r)
      if (t->item(r, 0)->text() == "config") configRows << r;
    QCOMPARE(configRows.size(), 1);
    QCOMPARE(t->item(configRows[0], 1)->text(), QString("model.num_experts"));
    QCOMPARE(t->item(configRows[0], 2)->text(), QString("4"));
    QVERIFY(t->item(configRows[0], 2)->background() != QBrush());
    // All fields on demand: identical ones are not highlighted.
    pane.onlyDifferences()->setChecked(false);
    bool sawSame = false;
    for (int r = 0; r < t->rowCount(); ++r)
      if (t->item(r, 1)->text() == "train.seed") {
        sawSame = true;
        QCOMPARE(t->item(r, 2)->background(), QBrush());
      }
    QVERIFY(sawSame);
    // The table as CSV.
    const QString csv = dir_.path() + "/table.csv";
    QVERIFY(pane.writeTableCsv(csv));
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QVERIFY(f.readAll().contains("config,model.num_experts,4,8,8,yes\n"));
  }

  void comparisonReportHasChartsAndTables() {
    ExportService exports;
    exports.setDatabase(db_);
    QSignalSpy done(&exports, &ExportService::finished);
    ChartImage image;
    image.title = "Train loss";
    image.series["run 1"] = {{1, 3.0}, {2, 2.5}};
    const QString folder = dir_.path() + "/report";
    exports.exportComparisonReport({a_, b_}, folder, {image});
    QVERIFY(done.wait(10000));
    QVERIFY2(done.first().at(0).toBool(), qPrintable(done.first().at(1).toString()));
    QVERIFY(QFile::exists(folder + "/index.html"));
    QVERIFY(QFile::exists(folder + "/comparison.csv"));
    QImage png(folder + "/charts/01-train-loss.png");
    QCOMPARE(png.size(), QSize(1000, 640));
  }

  void metricsCsvAndFailuresAreReported() {
    ExportService exports;
    exports.setDatabase(db_);
    QSignalSpy done(&exports, &ExportService::finished);
    exports.exportMetricsCsv(a_, dir_.path() + "/wide.csv", /*wide=*/true);
    QVERIFY(done.wait(10000));
    QVERIFY(done.last().at(0).toBool());
    QFile f(dir_.path() + "/wide.csv");
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readLine(), QByteArray("step,wall_time,train/loss,val/loss\n"));
    // No checkpoint: a message that says so, not a crash.
    exports.exportWeights(a_, dir_.path() + "/w.safetensors", true);
    QVERIFY(done.wait(10000));
    QVERIFY(!done.last().at(0).toBool());
    QVERIFY2(done.last().at(1).toString().contains("no checkpoint"),
             qPrintable(done.last().at(1).toString()));
  }
};

MOELAB_TEST_SUITE(ComparePaneTest)
#include "ComparePaneTest.moc"
