#pragma once
#include <QDialog>
#include <QPointer>

class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;

namespace moelab::ui {

class DataFetchWorker;

// A run could not start because a data set (or the tokenizer) is missing: names every path
// tried and offers Fetch (progress, cancel, SHA-256 verified, into the first data folder) or
// Choose folder (a folder that holds it). Accepted with dataDirectory() set: start again with it.
class DataMissingDialog : public QDialog {
  Q_OBJECT
 public:
  DataMissingDialog(const QString& message, const QString& folder, const QString& fetchName,
                    const QString& fetchRoot, QWidget* parent = nullptr);
  ~DataMissingDialog() override;
  QString dataDirectory() const { return dataDir_; }
  // The folder the user chose (a data root, or the data set's own folder): accepted if it holds it.
  bool useFolder(const QString& path);
  void startFetch();
  QPushButton* fetchButton() const { return fetch_; }
  QLineEdit* mirrorEdit() const { return mirror_; }
  QLabel* statusLabel() const { return status_; }

 protected:
  void reject() override;  // cancels a fetch in progress first

 private:
  QString folder_, fetchName_, fetchRoot_, dataDir_;
  QLabel* status_;
  QProgressBar* progress_;
  QLineEdit* mirror_;
  QPushButton *fetch_, *choose_, *cancel_;
  QPointer<DataFetchWorker> worker_;
};

}  // namespace moelab::ui
