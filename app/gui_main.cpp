#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QPushButton>
#include <QSettings>
#include <QTimer>
#include <cstdio>
#include <cstring>

#include "MainWindow.h"
#include "ScreenshotTour.h"
#include "bench/UiBench.h"
#include "experiment/ExperimentPane.h"
#include "store/DefaultDatabase.h"
#include "util/BuildInfo.h"
#include "util/OpenMpWaitPolicy.h"

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--version") == 0) {  // no display, no restart needed for this
      std::fputs(moelab::buildinfo::versionText("moelab").c_str(), stdout);
      return 0;
    }
  moelab::restartWithPassiveOpenMpWaiting(argv);  // before Qt or LibTorch start any thread
  QApplication app(argc, argv);
  QApplication::setApplicationName("MoE Lab");
  QApplication::setOrganizationName("MoE Lab");
  if (app.arguments().contains("--bench-ui")) {
    QApplication::setOrganizationName("MoE Lab bench");  // leaves the user's recent files alone
    return moelab::ui::runUiBench(app.arguments());
  }
  QCommandLineParser cli;
  cli.setApplicationDescription("MoE Lab: train, watch and compare Mixture-of-Experts language models.");
  cli.addHelpOption();
  cli.addOption({"version", "Print the version, git commit, LibTorch version and BLAS, and exit."});
  cli.addOption({"db",
                 "Experiment database to open (default: the last one, else ~/.local/share/moelab/moelab.db).",
                 "file"});
  cli.addOption({"experiment", "Load this experiment JSON into the editor.", "file"});
  cli.addOption({"start", "Start the loaded experiment at once (with --experiment)."});
  cli.addOption({"bench-ui",
                 "Measure UI responsiveness while training (--steps N), or with --large a 10,000-run "
                 "database (--runs N --rows N); prints JSON."});
  cli.addOption({"screenshot", "Render the window to a PNG file and exit.", "file"});
  cli.addOption({"screenshots",
                 "Once the started run ends (or at once), save every view as DIR/<view>.png and exit.",
                 "dir"});
  cli.process(app);

  moelab::ui::MainWindow window;
  QString db = cli.value("db");
  if (db.isEmpty()) {
    const QStringList recent = QSettings().value("recentDatabases").toStringList();
    db = !recent.isEmpty() && QFileInfo::exists(recent.first()) ? recent.first()
                                                                : moelab::ui::defaultDatabasePath();
  }
  window.openDatabase(db);
  if (cli.isSet("experiment")) {
    window.experimentPane()->loadFile(cli.value("experiment"));
    if (cli.isSet("start")) QTimer::singleShot(0, [&] { window.experimentPane()->startButton()->click(); });
  }
  window.show();
  if (cli.isSet("screenshot")) {
    QTimer::singleShot(300, [&] {
      bool ok = window.grab().save(cli.value("screenshot"));
      QApplication::exit(ok ? 0 : 1);
    });
  }
  if (cli.isSet("screenshots")) {
    const QString dir = cli.value("screenshots");
    auto capture = [&window, dir] {
      QApplication::exit(moelab::ui::captureScreenshots(window, dir) ? 0 : 1);
    };
    if (cli.isSet("start"))
      QObject::connect(&window, &moelab::ui::MainWindow::runEnded, [&window, capture](qint64 id) {
        window.showRun(id);
        QTimer::singleShot(2500, capture);  // the poller's next rows reach the charts
      });
    else
      QTimer::singleShot(1500, capture);
  }
  return app.exec();
}
