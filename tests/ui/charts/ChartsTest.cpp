#include <QGraphicsTextItem>
#include <QLineSeries>
#include <QValueAxis>
#include <QtTest/QtTest>
#include <random>

#include "TestSuite.h"
#include "charts/Downsampler.h"
#include "charts/MetricChart.h"

using namespace moelab::ui;

// The per-pixel min/max reduction, EMA smoothing and the chart's coalesced redraws.
class ChartsTest : public QObject {
  Q_OBJECT
 private slots:
  void downsamplerKeepsEveryExtreme() {
    std::mt19937 rng(5);
    std::normal_distribution<double> noise(0, 1);
    QVector<QPointF> pts;
    for (int i = 0; i < 100000; ++i) pts.push_back({double(i), noise(rng) + (i == 71234 ? 50.0 : 0.0)});
    const int columns = 500;
    auto out = downsampleMinMax(pts, 0, 99999, columns);
    QVERIFY(out.size() <= 4 * columns);
    QVERIFY(out.size() >= 2 * columns);
    // Each column's minimum and maximum of the full series is in the output.
    const double width = 99999.0 / columns;
    QVector<double> lo(columns + 1, 1e300), hi(columns + 1, -1e300);
    for (const auto& p : pts) {
      int c = int(std::floor(p.x() / width));
      lo[c] = std::min(lo[c], p.y()), hi[c] = std::max(hi[c], p.y());
    }
    QSet<double> kept;
    for (const auto& p : out) kept.insert(p.y());
    for (int c = 0; c <= columns; ++c) {
      if (lo[c] > 1e299) continue;
      QVERIFY2(kept.contains(lo[c]) && kept.contains(hi[c]), qPrintable(QString("column %1").arg(c)));
    }
    QVERIFY(kept.contains(pts[71234].y()));                                     // the spike
    for (int i = 1; i < out.size(); ++i) QVERIFY(out[i].x() > out[i - 1].x());  // x order kept
  }
  void emaIsDebiasedAndSkipsNonFinite() {
    QVector<QPointF> pts{{1, 4.0}, {2, 2.0}, {3, NAN}, {4, 2.0}};
    auto s = smoothEma(pts, 0.9);
    QCOMPARE(s[0].y(), 4.0);  // debiased: the first point is the first value, not 0.4
    QVERIFY(std::abs(s[1].y() - (0.9 * 0.4 + 0.2) / (1 - 0.81)) < 1e-12);
    QVERIFY(std::isnan(s[2].y()));
    QVERIFY(s[3].y() < s[1].y() && s[3].y() > 2.0);
    QCOMPARE(smoothEma(pts, 0.0)[1].y(), 2.0);
  }
  void burstsOfUpdatesAreCoalesced() {
    MetricChart chart("loss");
    chart.resize(600, 400);
    chart.show();
    for (int i = 0; i < 1000; ++i) chart.appendPoints("run 1", {QPointF(i, 1.0 / (i + 1))});
    QTest::qWait(150);
    QVERIFY2(chart.redrawCount() <= 5, qPrintable(QString::number(chart.redrawCount())));
    QCOMPARE(chart.pointCount("run 1"), 1000);
    // 100,000 points draw as a per-column reduction, not 100,000 vertices.
    QVector<QPointF> many;
    for (int i = 1000; i < 101000; ++i) many.push_back({double(i), std::sin(i * 0.01)});
    chart.appendPoints("run 1", many);
    QTest::qWait(100);
    QVERIFY2(chart.drawnPointCount() < 8 * 600, qPrintable(QString::number(chart.drawnPointCount())));
  }
  void pngHasTheRequestedSize() {
    MetricChart chart("loss");
    chart.appendPoints("a", {{0, 1}, {1, 0.5}, {2, 0.25}});
    QTemporaryDir d;
    const QString path = d.path() + "/chart.png";
    QVERIFY(chart.savePng(path, QSize(1000, 640)));
    QImage img(path);
    QCOMPARE(img.size(), QSize(1000, 640));
    QVERIFY(!chart.savePng(d.path() + "/missing/dir/chart.png", QSize(10, 10)));
  }
  void axesEndOnRoundTicksAndPanMovesTheView() {
    MetricChart chart("loss");
    chart.resize(600, 400);
    chart.show();
    QVector<QPointF> pts;
    for (int i = 1; i <= 60; ++i) pts.push_back({double(i), 10.0 - i * 0.01});
    chart.appendPoints("a", pts);
    chart.redrawNow();
    auto* x = qobject_cast<QValueAxis*>(chart.chart()->axes(Qt::Horizontal).first());
    QCOMPARE(x->min(), 0.0);  // 1..60 -> 0..60, not 0..100
    QCOMPARE(x->max(), 60.0);
    // Arrow keys pan, Home resets.
    QTest::keyClick(&chart, Qt::Key_Right);
    QVERIFY(x->min() > 0.0);
    QTest::keyClick(&chart, Qt::Key_Home);
    QCOMPARE(x->min(), 0.0);
    // Shift-drag pans too.
    const QPoint c = chart.rect().center();
    QTest::mousePress(chart.viewport(), Qt::LeftButton, Qt::ShiftModifier, c);
    QMouseEvent move(QEvent::MouseMove, QPointF(c - QPoint(60, 0)),
                     chart.viewport()->mapToGlobal(QPointF(c - QPoint(60, 0))), Qt::LeftButton,
                     Qt::LeftButton, Qt::ShiftModifier);
    QApplication::sendEvent(chart.viewport(), &move);
    QTest::mouseRelease(chart.viewport(), Qt::LeftButton, Qt::ShiftModifier, c - QPoint(60, 0));
    QVERIFY2(x->min() > 0.0, qPrintable(QString::number(x->min())));
  }

  // Six runs on one chart are six colours (Qt's default theme repeats after five).
  void seriesKeepDistinctColours() {
    MetricChart chart("loss");
    for (int r = 0; r < 6; ++r) chart.appendPoints(QString("run %1").arg(r), {{1, 1.0 + r}, {2, 2.0 + r}});
    chart.redrawNow();
    QSet<QRgb> colours;
    for (auto* s : chart.chart()->series()) colours.insert(static_cast<QLineSeries*>(s)->color().rgb());
    QCOMPARE(colours.size(), 6);
  }

  // The tick labels are drawn whole after one run's curve replaces another's with a different
  // label format (whole numbers -> decimals) and a legend appears: the axis makes room for them.
  void tickLabelsAreNotElidedWhenARunReplacesAnother() {
    MetricChart chart("Train loss");
    chart.resize(400, 220);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    QVector<QPointF> wide, narrow;
    for (int i = 1; i <= 60; ++i) {
      wide.push_back({double(i), 11.0 - i * 0.08});      // ticks 6 .. 11: "%.0f"
      narrow.push_back({double(i), 6.62 - i * 0.0001});  // ticks 6.613 .. 6.62: wider labels
    }
    chart.appendPoints("run 1", wide);
    chart.redrawNow();
    QTest::qWait(50);
    chart.hide();  // the run page replaces the run while another tab is in front
    chart.clearSeries();
    chart.setSmoothing(0.6);
    chart.appendPoints("run 13", narrow);
    chart.redrawNow();
    QTest::qWait(50);
    chart.show();
    QTest::qWait(100);
    QStringList labels;
    for (auto* item : chart.scene()->items())
      if (auto* text = dynamic_cast<QGraphicsTextItem*>(item); text && text->isVisible())
        labels << text->toPlainText();
    QVERIFY2(labels.contains("6.616"), qPrintable(labels.join(" | ")));
    for (const auto& l : labels)
      QVERIFY2(!l.contains(QChar(0x2026)) && !l.contains("..."), qPrintable(labels.join(" | ")));
  }
};

MOELAB_TEST_SUITE(ChartsTest)
#include "ChartsTest.moc"
