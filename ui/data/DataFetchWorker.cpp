#include "data/DataFetchWorker.h"

#include <chrono>

#include "data/DataFetcher.h"

namespace moelab::ui {

DataFetchWorker::DataFetchWorker(QString dataset, QString root, QString mirror, QObject* parent)
    : QThread(parent), dataset_(std::move(dataset)), root_(std::move(root)), mirror_(std::move(mirror)) {}

DataFetchWorker::~DataFetchWorker() {
  cancel();
  wait();
}

void DataFetchWorker::run() {
  try {
    auto lastReport = std::chrono::steady_clock::now() - std::chrono::seconds(1);
    DataFetcher fetcher(root_.toStdString(), [&](const FetchProgress& p) {
      // At most ~20 progress signals a second, whatever curl's callback rate.
      const auto now = std::chrono::steady_clock::now();
      if (now - lastReport < std::chrono::milliseconds(50) && p.bytes != p.total) return;
      lastReport = now;
      emit progressed(QString::fromStdString(p.relPath), p.bytes, p.total);
    });
    fetcher.setCancelFlag(&cancel_);
    if (!mirror_.isEmpty()) fetcher.setMirror(mirror_.toStdString());
    const auto outcomes = fetcher.fetch(findDataset(dataset_.toStdString()));
    qint64 bytes = 0;
    int skipped = 0;
    for (const auto& o : outcomes) bytes += o.bytes, skipped += o.skipped;
    emit done(true, false,
              QString("%1: %2 file(s) verified (%3 already present), %4 MB, in %5")
                  .arg(dataset_)
                  .arg(outcomes.size())
                  .arg(skipped)
                  .arg(double(bytes) / 1e6, 0, 'f', 1)
                  .arg(root_));
  } catch (const FetchCancelled& e) {
    emit done(false, true, QString::fromUtf8(e.what()));
  } catch (const std::exception& e) {
    emit done(false, false, QString::fromUtf8(e.what()));
  }
}

}  // namespace moelab::ui
