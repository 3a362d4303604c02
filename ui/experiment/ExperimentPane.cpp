#include "experiment/ExperimentPane.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSpinBox>
#include <QThread>
#include <QVBoxLayout>

#include "experiment/ExperimentForm.h"

namespace moelab::ui {

QStringList ExperimentPane::presetFolders() {
  const QString app = QCoreApplication::applicationDirPath();
  QStringList out;
  for (const QString& d : {app + "/../share/moelab/experiments", QString("/usr/share/moelab/experiments"),
                           app + "/../../experiments", QString(MOELAB_SOURCE_DIR) + "/experiments"})
    if (QDir(d).exists() && !out.contains(QDir(d).canonicalPath())) out << QDir(d).canonicalPath();
  return out;
}

ExperimentPane::ExperimentPane(QWidget* parent) : QWidget(parent) {
  form_ = new ExperimentForm;
  presets_ = new QComboBox;
  presets_->addItem("Presets...");
  for (const QString& folder : presetFolders())
    for (const QFileInfo& f : QDir(folder).entryInfoList({"*.json"}, QDir::Files, QDir::Name))
      presets_->addItem(f.completeBaseName(), f.absoluteFilePath());
  auto* load = new QPushButton("Load...");
  auto* save = new QPushButton("Save...");
  name_ = new QLineEdit;
  name_->setPlaceholderText("run name (default: the experiment)");
  ranks_ = new QSpinBox;
  ranks_->setRange(1, std::max(1, QThread::idealThreadCount()));
  ranks_->setValue(1);
  ranks_->setToolTip(
      "Data-parallel ranks: processes on this machine that each train on a share of every batch and "
      "average their gradients (moelab-cli train --nproc N). The run's threads are divided among them.");
  start_ = new QPushButton("Start run");
  start_->setDefault(true);
  start_->setStyleSheet("font-weight: 600;");

  auto* bar = new QHBoxLayout;
  bar->addWidget(presets_);
  bar->addWidget(load);
  bar->addWidget(save);
  bar->addSpacing(12);
  bar->addWidget(new QLabel("Name"));
  bar->addWidget(name_, 1);
  bar->addWidget(new QLabel("Ranks"));
  bar->addWidget(ranks_);
  bar->addWidget(start_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(bar);
  layout->addWidget(form_, 1);

  connect(presets_, &QComboBox::activated, this, [this](int i) {
    if (i > 0) loadFile(presets_->itemData(i).toString());
    presets_->setCurrentIndex(0);
  });
  connect(load, &QPushButton::clicked, this, [this] {
    const QString path =
        QFileDialog::getOpenFileName(this, "Load experiment", {}, "Experiment JSON (*.json)");
    if (!path.isEmpty()) loadFile(path);
  });
  connect(save, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, "Save experiment", experiment_ + ".json",
                                                      "Experiment JSON (*.json)");
    if (!path.isEmpty() && !saveFile(path))
      QMessageBox::warning(this, "Save experiment", "Cannot write " + path);
  });
  connect(form_, &ExperimentForm::validityChanged, start_, &QPushButton::setEnabled);
  start_->setEnabled(form_->isValid());
  connect(start_, &QPushButton::clicked, this, [this] {
    if (form_->isValid())
      emit startRequested(form_->config(), experiment_, name_->text().trimmed(), ranks_->value());
  });
}

void ExperimentPane::setConfig(const nlohmann::json& doc, const QString& experiment) {
  form_->setConfig(doc);
  experiment_ = experiment;
}

void ExperimentPane::loadFile(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) {
    QMessageBox::warning(this, "Load experiment", "Cannot read " + path);
    return;
  }
  auto doc = nlohmann::json::parse(f.readAll().toStdString(), nullptr, false);
  try {
    if (doc.is_discarded() || !doc.is_object()) throw std::runtime_error("not a JSON object");
    setConfig(doc, QFileInfo(path).completeBaseName());
  } catch (const std::exception& e) {
    QMessageBox::warning(this, "Load experiment", path + ": " + QString::fromUtf8(e.what()));
  }
}

bool ExperimentPane::saveFile(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) return false;
  f.write(QByteArray::fromStdString(form_->config().dump(2) + "\n"));
  return f.flush();
}

}  // namespace moelab::ui
