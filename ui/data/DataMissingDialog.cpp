#include "data/DataMissingDialog.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QVBoxLayout>

#include "data/DataFetchWorker.h"
#include "data/DataFetcher.h"

namespace moelab::ui {

DataMissingDialog::DataMissingDialog(const QString& message, const QString& folder, const QString& fetchName,
                                     const QString& fetchRoot, QWidget* parent)
    : QDialog(parent), folder_(folder), fetchName_(fetchName), fetchRoot_(fetchRoot) {
  setWindowTitle("Data not found");
  setMinimumWidth(640);
  auto* intro =
      new QLabel(QString("<b>The run needs the data set “%1”, which is not on this machine.</b><br>"
                         "Fetch it (SHA-256 verified) into <tt>%2</tt>, or choose a folder that holds "
                         "<tt>%1/</tt>.")
                     .arg(folder.toHtmlEscaped(), fetchRoot.toHtmlEscaped()));
  intro->setWordWrap(true);
  auto* details = new QPlainTextEdit(message);
  details->setReadOnly(true);
  details->setMaximumHeight(130);
  mirror_ =
      new QLineEdit(QSettings().value("dataMirror", qEnvironmentVariable("MOELAB_DATA_MIRROR")).toString());
  mirror_->setPlaceholderText("optional: a mirror URL (https://... or file:///...) holding the same layout");
  status_ = new QLabel;
  status_->setWordWrap(true);
  progress_ = new QProgressBar;
  progress_->hide();
  fetch_ = new QPushButton("Fetch " + fetchName);
  choose_ = new QPushButton("Choose folder...");
  cancel_ = new QPushButton("Cancel");
  fetch_->setDefault(true);
  try {
    findDataset(fetchName.toStdString());
  } catch (const std::exception&) {  // no public source known: only Choose folder can help
    fetch_->setEnabled(false);
    fetch_->setToolTip("MoE Lab knows no public source for " + fetchName);
    fetch_->setDefault(false);
  }
  connect(fetch_, &QPushButton::clicked, this, &DataMissingDialog::startFetch);
  connect(choose_, &QPushButton::clicked, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, "Folder holding " + folder_ + "/");
    if (!dir.isEmpty() && !useFolder(dir))
      status_->setText(
          QString("%1 holds no %2/ folder (and is not one): choose the folder that contains %2/.")
              .arg(dir, folder_));
  });
  connect(cancel_, &QPushButton::clicked, this, &DataMissingDialog::reject);

  auto* buttons = new QHBoxLayout;
  buttons->addStretch(1);
  buttons->addWidget(fetch_);
  buttons->addWidget(choose_);
  buttons->addWidget(cancel_);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(intro);
  layout->addWidget(new QLabel("Paths tried:"));
  layout->addWidget(details);
  layout->addWidget(new QLabel("Mirror"));
  layout->addWidget(mirror_);
  layout->addWidget(progress_);
  layout->addWidget(status_);
  layout->addLayout(buttons);
}

DataMissingDialog::~DataMissingDialog() {
  if (worker_) worker_->cancel();
}

bool DataMissingDialog::useFolder(const QString& path) {
  QDir dir(path);
  if (dir.dirName() == folder_ && dir.cdUp()) {
    dataDir_ = dir.absolutePath();
  } else if (QFileInfo(QDir(path).filePath(folder_)).isDir()) {
    dataDir_ = QDir(path).absolutePath();
  } else {
    return false;
  }
  accept();
  return true;
}

void DataMissingDialog::startFetch() {
  if (worker_) return;
  QSettings().setValue("dataMirror", mirror_->text().trimmed());
  fetch_->setEnabled(false);
  choose_->setEnabled(false);
  progress_->show();
  progress_->setRange(0, 0);
  status_->setText("Connecting...");
  worker_ = new DataFetchWorker(fetchName_, fetchRoot_, mirror_->text().trimmed(), this);
  connect(
      worker_, &DataFetchWorker::progressed, this, [this](const QString& file, qint64 bytes, qint64 total) {
        if (total > 0) {
          progress_->setRange(0, 1000);
          progress_->setValue(int(1000 * bytes / total));
        }
        status_->setText(QString("%1: %2 of %3 MB")
                             .arg(file)
                             .arg(double(bytes) / 1e6, 0, 'f', 1)
                             .arg(total > 0 ? QString::number(double(total) / 1e6, 'f', 1) : QString("?")));
      });
  connect(worker_, &DataFetchWorker::done, this, [this](bool ok, bool cancelled, const QString& message) {
    worker_->wait();
    worker_->deleteLater();
    worker_ = nullptr;
    progress_->hide();
    if (ok) {
      dataDir_ = fetchRoot_;
      status_->setText(message);
      accept();
      return;
    }
    status_->setText(cancelled ? "Cancelled: nothing was saved." : "Fetch failed: " + message);
    fetch_->setEnabled(true);
    choose_->setEnabled(true);
  });
  worker_->start();
}

void DataMissingDialog::reject() {
  if (worker_) {
    worker_->cancel();  // done() re-enables the buttons; a second Cancel closes
    status_->setText("Cancelling...");
    return;
  }
  QDialog::reject();
}

}  // namespace moelab::ui
