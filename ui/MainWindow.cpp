#include "MainWindow.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QMenuBar>
#include <QStatusBar>
#include <QTableWidget>

#include "store/ExperimentStore.h"

namespace moelab::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle("MoE Lab");
  resize(960, 600);
  runs_ = new QTableWidget(0, 6, this);
  runs_->setHorizontalHeaderLabels({"Run", "Experiment", "Status", "Step", "Train loss", "Val loss"});
  runs_->horizontalHeader()->setStretchLastSection(true);
  runs_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  setCentralWidget(runs_);
  status_ = new QLabel(this);
  statusBar()->addWidget(status_);
  auto* file = menuBar()->addMenu("&File");
  file->addAction("&Open experiment database…", this, [this] {
    QString path =
        QFileDialog::getOpenFileName(this, "Open experiment database", {}, "MoE Lab database (*.db)");
    if (!path.isEmpty()) openDatabase(path);
  });
  file->addAction("&Quit", this, &QWidget::close);
  if (QFileInfo::exists("moelab.db"))
    openDatabase("moelab.db");
  else
    status_->setText("No experiment database open. Train with `moelab-cli train`, then File → Open.");
}

void MainWindow::openDatabase(const QString& path) {
  try {
    ExperimentStore store(path.toStdString(), /*readOnly=*/true);
    auto runs = store.listRuns();
    runs_->setRowCount(int(runs.size()));
    for (int r = 0; r < int(runs.size()); ++r) {
      const auto& run = runs[size_t(r)];
      auto latest = store.latestMetrics(run.id);
      auto metric = [&](const char* key) {
        auto it = latest.find(key);
        return it == latest.end() ? QString("-") : QString::number(it->second.value, 'f', 4);
      };
      QStringList cells{QString::number(run.id),
                        QString::fromStdString(run.experiment),
                        QString::fromStdString(run.status),
                        QString::number(run.step),
                        metric("train/loss"),
                        metric("val/loss")};
      for (int c = 0; c < cells.size(); ++c) runs_->setItem(r, c, new QTableWidgetItem(cells[c]));
    }
    status_->setText(QString("%1: %2 runs").arg(path).arg(runs.size()));
  } catch (const std::exception& e) {
    status_->setText(QString("Cannot open %1: %2").arg(path, e.what()));
  }
}

}  // namespace moelab::ui
