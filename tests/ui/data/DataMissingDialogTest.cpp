#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "TestSuite.h"
#include "data/DataMissingDialog.h"
#include "util/Sha256.h"

using namespace moelab::ui;

// The data-missing dialog: Choose folder accepts a folder that holds the data set; Fetch
// downloads it (here from a file:// mirror of the shared data) into the fetch root, verified.
class DataMissingDialogTest : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;

 private slots:
  void chooseFolderAcceptsARootOrTheDataSetFolder() {
    DataMissingDialog d("paths tried: ...", "tinyshakespeare", "tinyshakespeare", dir_.path() + "/fetched");
    QVERIFY(!d.useFolder(dir_.path()));  // holds no tinyshakespeare/
    QCOMPARE(d.result(), int(QDialog::Rejected));
    QVERIFY(d.useFolder(moelab::test::dataDir()));
    QCOMPARE(d.dataDirectory(), QDir(moelab::test::dataDir()).absolutePath());
    DataMissingDialog e("...", "tinyshakespeare", "tinyshakespeare", dir_.path());
    QVERIFY(e.useFolder(moelab::test::dataDir() + "/tinyshakespeare"));
    QCOMPARE(e.dataDirectory(), QDir(moelab::test::dataDir()).absolutePath());
  }

  void fetchDownloadsVerifiesAndAccepts() {
    const QString root = dir_.path() + "/fetched";
    DataMissingDialog d("...", "tinyshakespeare", "tinyshakespeare", root);
    d.mirrorEdit()->setText(QUrl::fromLocalFile(moelab::test::dataDir()).toString());
    d.show();
    QSignalSpy accepted(&d, &QDialog::accepted);
    QTest::mouseClick(d.fetchButton(), Qt::LeftButton);
    QVERIFY2(accepted.wait(30000), qPrintable(d.statusLabel()->text()));
    QCOMPARE(d.dataDirectory(), root);
    QCOMPARE(moelab::Sha256::ofFile((root + "/tinyshakespeare/input.txt").toStdString()),
             moelab::Sha256::ofFile((moelab::test::dataDir() + "/tinyshakespeare/input.txt").toStdString()));
  }

  void aFailedFetchSaysWhyAndStaysOpen() {
    DataMissingDialog d("...", "tinyshakespeare", "tinyshakespeare", dir_.path() + "/nothing");
    d.mirrorEdit()->setText(QUrl::fromLocalFile(dir_.path() + "/no-mirror-here").toString());
    d.show();
    QTest::mouseClick(d.fetchButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(d.statusLabel()->text().startsWith("Fetch failed"), 60000);
    QVERIFY(d.isVisible());
    QVERIFY(d.fetchButton()->isEnabled());
    QVERIFY(!QFile::exists(dir_.path() + "/nothing/tinyshakespeare/input.txt"));
  }
};

MOELAB_TEST_SUITE(DataMissingDialogTest)
#include "DataMissingDialogTest.moc"
