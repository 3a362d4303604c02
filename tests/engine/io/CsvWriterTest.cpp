#include <QtTest/QtTest>
#include <sstream>

#include "TestSuite.h"
#include "io/CsvWriter.h"

using namespace moelab;

class CsvWriterTest : public QObject {
  Q_OBJECT
 private slots:
  void quotesEscapesAndNeutralisesFormulas() {
    QCOMPARE(CsvWriter::escape("plain"), std::string("plain"));
    QCOMPARE(CsvWriter::escape("a,b"), std::string("\"a,b\""));
    QCOMPARE(CsvWriter::escape("say \"hi\""), std::string("\"say \"\"hi\"\"\""));
    QCOMPARE(CsvWriter::escape("two\nlines"), std::string("\"two\nlines\""));
    QCOMPARE(CsvWriter::escape(" padded"), std::string("\" padded\""));
    QCOMPARE(CsvWriter::escape("=HYPERLINK(\"x\")"), std::string("\"'=HYPERLINK(\"\"x\"\")\""));
    QCOMPARE(CsvWriter::escape("+1+cmd|' /C calc'!A0"), std::string("'+1+cmd|' /C calc'!A0"));
    QCOMPARE(CsvWriter::escape("-2+3"), std::string("'-2+3"));
    // A cell that is just a number is data, not a formula: left as it is.
    QCOMPARE(CsvWriter::escape("-0.5"), std::string("-0.5"));
    QCOMPARE(CsvWriter::escape("+1"), std::string("+1"));
    QCOMPARE(CsvWriter::escape("-1.5e-3"), std::string("-1.5e-3"));
    QCOMPARE(CsvWriter::escape("-"), std::string("'-"));
    QCOMPARE(CsvWriter::escape("-lr"), std::string("'-lr"));
    QCOMPARE(CsvWriter::escape("@sum"), std::string("'@sum"));
  }
  void rowsKeepNumbersAsNumbers() {
    std::ostringstream out;
    CsvWriter w(out);
    w.text("run").text("value").endRow();
    w.integer(-3).number(-0.5).number(std::numeric_limits<double>::quiet_NaN()).text("a,b").endRow();
    w.number(0.1).endRow();
    QCOMPARE(out.str(), std::string("run,value\n-3,-0.5,nan,\"a,b\"\n0.10000000000000001\n"));
  }
};
MOELAB_TEST_SUITE(CsvWriterTest)
#include "CsvWriterTest.moc"
