#include <QLabel>
#include <QLineEdit>
#include <QTabWidget>
#include <QTableWidget>
#include <QtTest/QtTest>
#include <filesystem>

#include "MainWindow.h"
#include "TestSuite.h"
#include "charts/MetricChart.h"
#include "engine/sweep/TinySweepConfig.h"
#include "sweep/SweepSpec.h"
#include "sweeps/ParallelCoordinatesWidget.h"
#include "sweeps/SweepEditor.h"
#include "sweeps/SweepResultsView.h"
#include "sweeps/SweepTableModel.h"
#include "sweeps/SweepsPane.h"

using namespace moelab;
using namespace moelab::ui;

namespace {
nlohmann::json tinySpec(const std::string& name, int64_t steps, const nlohmann::json& seeds) {
  return {{"name", name},
          {"base", tinySweepBase(steps)},
          {"parameters", {{{"key", "train.seed"}, {"values", seeds}}}}};
}

// A sweep's table made by hand: point i has learning rate lr[i] and best loss loss[i].
SweepSnapshot handMade(const std::vector<double>& lr, const std::vector<double>& loss) {
  SweepSnapshot s;
  s.haveTable = true;
  s.table.spec = SweepSpec::fromJson({{"name", "h"},
                                      {"base", {{"data", {{"tokenizer", "char"}}}}},
                                      {"parameters", {{{"key", "train.learning_rate"}, {"values", lr}}}}});
  s.table.varied = {"train.learning_rate"};
  for (size_t i = 0; i < lr.size(); ++i) {
    SweepRow r;
    r.index = int64_t(i);
    r.runId = int64_t(i + 1);
    r.status = "finished";
    r.values = {{"train.learning_rate", lr[i]}};
    r.best = r.final = loss[i];
    s.table.rows.push_back(r);
    if (s.table.bestRow < 0 || loss[i] < s.table.rows[size_t(s.table.bestRow)].best) s.table.bestRow = int(i);
  }
  return s;
}
}  // namespace

class SweepsPaneTest : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
 private slots:
  void editorRoundTripsPresetsAndPreviewsInvalidPoints() {
    SweepEditor editor;
    const std::string folder = std::string(MOELAB_SOURCE_DIR) + "/experiments/sweeps";
    for (const char* name : {"seed-full-factorial-small", "cpu-random-asha", "cpu-learning-rate"}) {
      const std::string path = folder + "/" + name + ".json";
      QVERIFY(editor.loadSpecFile(QString::fromStdString(path)));
      // Form -> spec -> engine gives the same sweep the file describes.
      QCOMPARE(SweepSpec::fromJson(editor.spec()).toJson(), SweepSpec::load(path).toJson());
    }
    QVERIFY(editor.loadSpecFile(QString::fromStdString(folder + "/seed-full-factorial-small.json")));
    QCOMPARE(editor.previewRows(), 16);
    QCOMPARE(editor.previewInvalid(), 0);
    // The user adds embed_dim values through the table; 100 is not divisible by 8 heads.
    editor.addParameter("model.embed_dim", "values", "256, 100");
    auto* cell = editor.parameterTable()->item(editor.parameterTable()->rowCount() - 1, 2);
    QCOMPARE(cell->text(), QString("256, 100"));
    // (embed_dim is already swept: the engine names the duplicate)
    QVERIFY(!editor.preview());
    QVERIFY(editor.message()->text().contains("swept twice"));
    editor.parameterTable()->removeRow(0);
    QVERIFY(editor.preview());
    QCOMPARE(editor.previewRows(), 16);
    QCOMPARE(editor.previewInvalid(), 8);
    QVERIFY(editor.message()->text().contains("8 invalid"));
  }
  void brushingAParallelAxisFiltersTheTable() {
    SweepResultsView view;
    view.resize(1000, 800);
    view.show();
    view.charts()->setCurrentWidget(view.parallel());
    view.setSnapshot(handMade({1e-4, 3e-4, 1e-3, 3e-3}, {5.0, 4.2, 3.9, 4.8}));
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QCOMPARE(view.proxy()->rowCount(), 4);
    // The best row (lr 1e-3, loss 3.9) is highlighted.
    QCOMPARE(view.model()->data(view.model()->index(2, 0), Qt::BackgroundRole).value<QBrush>().color(),
             QColor(214, 240, 214));
    auto* pc = view.parallel();
    QCOMPARE(pc->axisCount(), 2);
    // Drag along the metric axis from 3.8 to 4.5: runs with loss 4.2 and 3.9 pass.
    const int x = pc->axisX(1);
    QTest::mousePress(pc, Qt::LeftButton, {}, QPoint(x, pc->valueY(1, 4.5)));
    QTest::mouseMove(pc, QPoint(x, pc->valueY(1, 4.1)));
    QTest::mouseRelease(pc, Qt::LeftButton, {}, QPoint(x, pc->valueY(1, 3.8)));
    QCOMPARE(view.proxy()->rowCount(), 2);
    QSet<int> shown;
    for (int r = 0; r < view.proxy()->rowCount(); ++r)
      shown << view.proxy()->index(r, 0).data(SweepTableModel::kIndexRole).toInt();
    QCOMPARE(shown, (QSet<int>{1, 2}));
    // The log-scaled learning-rate axis brushes in its own units; brushes combine.
    pc->setBrush(0, 2e-4, 5e-4);
    QCOMPARE(view.proxy()->rowCount(), 1);
    // Text filter and brush together; a click on an axis clears its brush.
    QTest::mouseClick(pc, Qt::LeftButton, {}, QPoint(pc->axisX(0), pc->valueY(0, 3e-4)));
    QCOMPARE(view.proxy()->rowCount(), 2);
    QTest::mouseClick(pc, Qt::LeftButton, {}, QPoint(x, pc->valueY(1, 4.0)));
    QCOMPARE(view.proxy()->rowCount(), 4);
    view.filter()->setText("finished");
    QCOMPARE(view.proxy()->rowCount(), 4);
    view.filter()->setText("nothing like this");
    QCOMPARE(view.proxy()->rowCount(), 0);
  }
  void sweepRunsInTheAppAndIsOfferedForResumeAfterClosing() {
    const QString db = dir_.path() + "/gui.db";
    {
      MainWindow w;
      w.setQuiet(true);
      w.setDataDirectory(moelab::test::dataDir());
      QVERIFY(w.openDatabase(db));
      auto* pane = w.sweepsPane();
      QSignalSpy ended(pane, &SweepsPane::sweepEnded);
      pane->startSweep(tinySpec("two seeds", 6, {1, 2}));
      QVERIFY(ended.wait(120000));
      QCOMPARE(ended[0][1].toBool(), false);  // not interrupted
      QSignalSpy loaded(pane, &SweepsPane::snapshotLoaded);
      pane->selectSweep(ended[0][0].toLongLong());
      // A snapshot read while the last run was still training may land first; the refresh queued by
      // sweepEnded follows it, so wait for the sweep to read as finished.
      QTRY_VERIFY_WITH_TIMEOUT(pane->snapshot().haveTable && pane->snapshot().table.rows.size() == 2 &&
                                   pane->snapshot().table.sweep.status == "finished",
                               20000);
      QTRY_COMPARE_WITH_TIMEOUT(pane->results()->model()->rowCount(), 2, 20000);
      for (const auto& r : pane->snapshot().table.rows) QCOMPARE(r.status, std::string("finished"));
      QVERIFY(pane->snapshot().table.bestRow >= 0);
      QVERIFY(!pane->results()->curves()->seriesNames().isEmpty());

      // A longer sweep, closed mid-run like quitting the app.
      QSignalSpy second(pane, &SweepsPane::sweepEnded);
      pane->startSweep(tinySpec("closed", 400, {3, 4}));
      QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(dir_.path() + "/gui-runs/3/last.pt"), 120000);
      w.close();
      QCOMPARE(pane->runningSweeps(), 0);
    }
    MainWindow again;
    again.setQuiet(true);
    QSignalSpy offered(again.sweepsPane(), &SweepsPane::resumeOffered);
    QVERIFY(again.openDatabase(db));
    QVERIFY(offered.wait(20000));
    const auto ids = offered[0][0].value<QList<qint64>>();
    QCOMPARE(ids, (QList<qint64>{2}));
  }
};

MOELAB_TEST_SUITE(SweepsPaneTest)
#include "SweepsPaneTest.moc"
