#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include "MainWindow.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName("MoE Lab");
  QApplication::setOrganizationName("MoE Lab");
  QCommandLineParser cli;
  cli.addHelpOption();
  cli.addOption({"db", "Experiment database to open.", "file"});
  cli.addOption({"screenshot", "Render the window to a PNG file and exit.", "file"});
  cli.process(app);

  moelab::ui::MainWindow window;
  if (cli.isSet("db")) window.openDatabase(cli.value("db"));
  window.show();
  if (cli.isSet("screenshot")) {
    QTimer::singleShot(300, [&] {
      bool ok = window.grab().save(cli.value("screenshot"));
      QApplication::exit(ok ? 0 : 1);
    });
  }
  return app.exec();
}
