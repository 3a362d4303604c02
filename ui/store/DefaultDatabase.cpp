#include "store/DefaultDatabase.h"

#include <QDir>

namespace moelab::ui {

QString defaultDatabasePath() {
  QString base = qEnvironmentVariable("XDG_DATA_HOME");
  if (base.isEmpty() || !QDir::isAbsolutePath(base)) base = QDir::homePath() + "/.local/share";
  const QString folder = base + "/moelab";
  QDir().mkpath(folder);
  return folder + "/moelab.db";
}

}  // namespace moelab::ui
