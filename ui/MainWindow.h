#pragma once
#include <QMainWindow>

class QTableWidget;
class QLabel;

namespace moelab::ui {

// Composition root of the desktop app. For now: the experiment database's runs, read-only.
class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  void openDatabase(const QString& path);

 private:
  QTableWidget* runs_;
  QLabel* status_;
};

}  // namespace moelab::ui
