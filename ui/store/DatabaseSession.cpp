#include "store/DatabaseSession.h"

#include "store/ExperimentStore.h"
#include "store/StorePoller.h"

namespace moelab::ui {

DatabaseSession::DatabaseSession(const QString& path, int pollIntervalMs, QObject* parent)
    : QObject(parent), path_(path) {
  store_ = std::make_unique<ExperimentStore>(path.toStdString());
  qRegisterMetaType<moelab::ui::RunSummaries>();
  poller_ = new StorePoller(path, pollIntervalMs);
  poller_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, poller_, &QObject::deleteLater);
  thread_.setObjectName("store-poller");
}

void DatabaseSession::startPolling() {
  if (thread_.isRunning()) return;
  thread_.start();
  QMetaObject::invokeMethod(poller_, &StorePoller::start, Qt::QueuedConnection);
}

DatabaseSession::~DatabaseSession() {
  thread_.quit();
  thread_.wait();
}

void DatabaseSession::pollNow() {
  QMetaObject::invokeMethod(poller_, &StorePoller::pollNow, Qt::QueuedConnection);
}

void DatabaseSession::watch(qint64 run, const QStringList& keys) {
  QMetaObject::invokeMethod(poller_, &StorePoller::unwatchAll, Qt::QueuedConnection);
  for (const QString& k : keys)
    QMetaObject::invokeMethod(
        poller_, [p = poller_, run, k] { p->watch(run, k); }, Qt::QueuedConnection);
  pollNow();
}

}  // namespace moelab::ui
