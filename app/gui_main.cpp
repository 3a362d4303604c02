#include <QApplication>

#include "MainWindow.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName("MoE Lab");
  QApplication::setOrganizationName("MoE Lab");
  moelab::ui::MainWindow window;
  window.show();
  return app.exec();
}
