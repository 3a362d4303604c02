#include <QtTest/QtTest>

#include "TestSuite.h"
#include "charts/BarsWidget.h"
#include "charts/ColourScale.h"
#include "charts/HeatmapWidget.h"

using namespace moelab::ui;

// The heatmap and bar widgets paint what they are given, in the right place and colour.
class HeatmapWidgetTest : public QObject {
  Q_OBJECT
 private slots:
  void cellsTakeTheScaleColourOfTheirValue() {
    HeatmapWidget w;
    w.resize(200, 200);
    const std::vector<std::vector<double>> m = {{0.0, 0.5}, {1.0, 0.25}};
    const auto scale = ColourScale::spanning(0.0, 1.0, false);
    w.setScale(scale);
    w.setMatrix(m);
    QImage shot = w.grab().toImage();
    for (int r = 0; r < 2; ++r)
      for (int c = 0; c < 2; ++c) {
        const QRgb expected = scale.colour(m[size_t(r)][size_t(c)]);
        QCOMPARE(w.cellColour(r, c), expected);
        // What is on screen at the cell's centre is that colour too (no smoothing between cells).
        const QPoint centre = w.cellRect(r, c).center();
        QCOMPARE(QColor(shot.pixel(centre)).name(), QColor(expected).name());
      }
    // The ends of the sequential scale differ clearly; the diverging scale is white at zero.
    QVERIFY(qGray(scale.colour(0.0)) < 60 && qGray(scale.colour(1.0)) > 180);
    const auto div = ColourScale::spanning(-2.0, 1.0, true);
    QCOMPARE(div.lo, -2.0);
    QCOMPARE(div.hi, 2.0);
    QVERIFY(qRed(div.colour(0.0)) > 240 && qBlue(div.colour(0.0)) > 240);
    QVERIFY(qRed(div.colour(2.0)) > qBlue(div.colour(2.0)));
  }
  void hoverNamesTheCellAndItsValue() {
    HeatmapWidget w;
    w.resize(200, 200);
    w.setMatrix({{0.1, 0.73}, {0.2, 0.3}});
    w.setHoverFormat([](int r, int c, double v) {
      return QString("layer 2, GNN 1: expert %1 → expert %2: %3").arg(c).arg(r).arg(formatValue(v));
    });
    QCOMPARE(w.hoverTextAt(w.cellRect(0, 1).center()), QString("layer 2, GNN 1: expert 1 → expert 0: 0.730"));
    QCOMPARE(w.hoverTextAt(QPoint(-5, -5)), QString());
    QSignalSpy hovered(&w, &HeatmapWidget::hovered);
    w.show();
    QTest::mouseMove(&w, w.cellRect(1, 0).center());
    QTRY_VERIFY(!hovered.isEmpty());
    QCOMPARE(hovered.last().at(0).toString(), QString("layer 2, GNN 1: expert 0 → expert 1: 0.200"));
  }
  void barsAreProportionalWithTheReferenceAndHighlight() {
    BarsWidget b;
    b.resize(400, 200);
    b.setValues({10, 40, 20, 30});
    b.setReference(25, "uniform");
    b.setHighlight(1);
    QVERIFY(b.barRect(1).height() > 0);
    QVERIFY(std::abs(double(b.barRect(1).height()) / b.barRect(0).height() - 4.0) < 0.2);
    QVERIFY(b.barRect(0).left() < b.barRect(1).left());
    QImage shot = b.grab().toImage();
    QCOMPARE(QColor(shot.pixel(b.barRect(1).center())), QColor(192, 28, 40));
    QCOMPARE(b.hoverTextAt(b.barRect(2).center()), QString("item 2: 20"));
  }
};
MOELAB_TEST_SUITE(HeatmapWidgetTest)
#include "HeatmapWidgetTest.moc"
