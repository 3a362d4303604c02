#pragma once
#include <QString>

namespace moelab::ui {

// Where the app keeps its experiment database when none was chosen: $XDG_DATA_HOME/moelab/moelab.db
// (default ~/.local/share/moelab/moelab.db). The folder is created; the file is created on open.
QString defaultDatabasePath();

}  // namespace moelab::ui
