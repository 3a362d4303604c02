#pragma once
#include <QString>

namespace moelab::ui {

class MainWindow;

// `moelab --screenshots DIR`: walks the window through every view with the database's runs and
// saves DIR/<view>.png — Runs, Experiment, Run, Compare (up to four runs), Experts (coupling and
// usage of the shown gnn_moe run; usage and routing of the newest sparse_moe run), Network (a
// preset, then the sparse run's measured routing as traffic). Returns false if a file could not
// be written.
bool captureScreenshots(MainWindow& window, const QString& dir);

}  // namespace moelab::ui
