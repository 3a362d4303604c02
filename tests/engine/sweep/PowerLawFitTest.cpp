#include <QtTest/QtTest>
#include <cmath>
#include <random>

#include "TestSuite.h"
#include "sweep/PowerLawFit.h"

using namespace moelab;

class PowerLawFitTest : public QObject {
  Q_OBJECT
 private slots:
  void recoversAKnownScalingLaw() {
    // Chinchilla-like: L = 400 N^-0.34 + 1.7 over 1e6..1e9 parameters, exact.
    std::vector<double> n, l;
    for (double x = 1e6; x <= 1e9; x *= 2) {
      n.push_back(x);
      l.push_back(400 * std::pow(x, -0.34) + 1.7);
    }
    auto f = fitPowerLaw(n, l);
    QVERIFY2(f.ok, f.error.c_str());
    QVERIFY2(std::abs(f.alpha - 0.34) < 1e-4, qPrintable(QString::number(f.alpha)));
    QVERIFY(std::abs(f.c - 1.7) < 1e-3);
    QVERIFY(std::abs(f.a / 400 - 1) < 1e-2);
    QVERIFY(f.r2 > 0.999999);
    for (double r : f.residuals) QVERIFY(std::abs(r) < 1e-6);
  }
  void noisyPointsGiveUncertaintiesThatCoverTheTruth() {
    std::mt19937 rng(1);
    std::normal_distribution<double> noise(0, 0.01);
    std::vector<double> n, l;
    for (double x = 1e5; x <= 1e8; x *= 1.5) {
      n.push_back(x);
      l.push_back(50 * std::pow(x, -0.3) + 2.0 + noise(rng));
    }
    auto f = fitPowerLaw(n, l);
    QVERIFY(f.ok);
    QVERIFY(f.seAlpha > 0 && f.seC > 0 && f.seA > 0);
    QVERIFY2(std::abs(f.alpha - 0.3) < 4 * f.seAlpha,
             qPrintable(QString("%1 +- %2").arg(f.alpha).arg(f.seAlpha)));
    QVERIFY(std::abs(f.c - 2.0) < 4 * f.seC);
    QCOMPARE(f.residuals.size(), n.size());
  }
  void refusesWhatCannotBeFitted() {
    QVERIFY(!fitPowerLaw({1, 2}, {3, 2}).ok);
    QVERIFY(!fitPowerLaw({1, -2, 3}, {3, 2, 1}).ok);
    auto three = fitPowerLaw({1e3, 1e4, 1e5}, {5, 4, 3.5});
    QVERIFY(three.ok);
    QVERIFY(std::isnan(three.seAlpha));  // exact with three points: no error estimate
  }
};

MOELAB_TEST_SUITE(PowerLawFitTest)
#include "PowerLawFitTest.moc"
