#pragma once
#include <QString>
#include <QThread>
#include <atomic>

namespace moelab::ui {

// Fetches one known data set (SHA-256 verified, through the engine's DataFetcher) on its own
// thread; reports progress per file and ends in done(). cancel() aborts the transfer in progress
// and leaves nothing behind.
class DataFetchWorker : public QThread {
  Q_OBJECT
 public:
  DataFetchWorker(QString dataset, QString root, QString mirror = {}, QObject* parent = nullptr);
  ~DataFetchWorker() override;
  void cancel() { cancel_ = true; }

 signals:
  void progressed(const QString& file, qint64 bytes, qint64 total);
  void done(bool ok, bool cancelled, const QString& message);

 protected:
  void run() override;

 private:
  QString dataset_, root_, mirror_;
  std::atomic<bool> cancel_{false};
};

}  // namespace moelab::ui
