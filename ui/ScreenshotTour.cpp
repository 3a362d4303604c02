#include "ScreenshotTour.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QEventLoop>
#include <QTabWidget>
#include <QThread>
#include <QTimer>
#include <algorithm>
#include <functional>

#include "MainWindow.h"
#include "compare/ComparePane.h"
#include "experiment/ExperimentPane.h"
#include "experts/ExpertViewsPane.h"
#include "profile/ReassignmentView.h"
#include "profile/RoutingProfilePane.h"
#include "run/RunPage.h"
#include "runs/RunsTableModel.h"
#include "sim/SimulatorPane.h"
#include "store/DatabaseSession.h"
#include "store/ExperimentStore.h"
#include "sweeps/SweepEditor.h"
#include "sweeps/SweepResultsView.h"
#include "sweeps/SweepsPane.h"

namespace moelab::ui {
namespace {

// Runs the event loop until `signal` fires (or 15 s pass).
template <class Sender, class Signal>
void waitFor(Sender* sender, Signal signal, const std::function<void()>& trigger) {
  QEventLoop wait;
  QObject::connect(sender, signal, &wait, &QEventLoop::quit);
  QTimer::singleShot(15000, &wait, &QEventLoop::quit);
  trigger();
  wait.exec();
}

void settle() {
  for (int i = 0; i < 3; ++i) {
    QApplication::processEvents();
    QThread::msleep(80);
  }
}

}  // namespace

bool captureScreenshots(MainWindow& window, const QString& dir) {
  QDir().mkpath(dir);
  bool ok = true;
  auto save = [&](const QString& name) {
    settle();
    ok &= window.grab().save(dir + "/" + name + ".png");
  };
  QList<qint64> ids;
  qint64 sparse = 0;
  for (int r = 0; r < window.runsModel()->rowCount(); ++r) {
    const auto* run = window.runsModel()->runAt(r);
    if (ids.size() < 4 && run->architecture != "sparse_moe") ids << run->id;
    if (run->architecture == "sparse_moe") sparse = std::max(sparse, qint64(run->id));
  }
  if (ids.size() >= 2) {
    std::sort(ids.begin(), ids.end());
    waitFor(window.comparePane(), &ComparePane::loaded, [&] { window.compareRuns(ids); });
  }
  auto* tabs = window.tabs();
  for (int i = 0; i < tabs->count(); ++i) {
    tabs->setCurrentIndex(i);
    save(tabs->tabText(i).toLower().replace(' ', '-'));
  }
  // Sweeps: each results chart of the newest sweep, then the editor with a preset expanded.
  auto* sweeps = window.sweepsPane();
  tabs->setCurrentWidget(sweeps);
  waitFor(sweeps, &SweepsPane::snapshotLoaded, [&] { sweeps->refresh(); });
  if (sweeps->snapshot().haveTable)
    for (int t = 0; t < sweeps->results()->charts()->count(); ++t) {
      sweeps->results()->charts()->setCurrentIndex(t);
      save("sweeps-" + sweeps->results()->charts()->tabText(t).toLower().replace(' ', '-'));
    }
  sweeps->tabs()->setCurrentIndex(1);
  const QStringList folders = ExperimentPane::presetFolders();
  if (!folders.isEmpty())
    sweeps->editor()->loadSpecFile(folders.first() + "/sweeps/cpu-full-factorial-small.json");
  save("sweeps-editor");
  sweeps->tabs()->setCurrentIndex(0);

  // Experts: the run on the Run page (gnn_moe), then the sparse run.
  auto* experts = window.expertViews();
  tabs->setCurrentWidget(experts);
  waitFor(experts, &ExpertViewsPane::updated, [&] { experts->refresh(); });
  for (int t = 0; t < experts->tabs()->count(); ++t)
    if (experts->tabs()->isTabEnabled(t)) {
      experts->tabs()->setCurrentIndex(t);
      save("experts-" + experts->tabs()->tabText(t).toLower() + "-" + experts->architecture());
    }
  if (sparse > 0) {
    waitFor(experts, &ExpertViewsPane::updated, [&] { experts->showRun(sparse); });
    for (int t = 1; t < experts->tabs()->count(); ++t) {
      experts->tabs()->setCurrentIndex(t);
      save("experts-" + experts->tabs()->tabText(t).toLower() + "-sparse_moe");
    }
  }
  // Routing profile of the sparse run: top-k and balanced side by side, then the strategy table.
  auto* profiler = window.routingProfilePane();
  tabs->setCurrentWidget(profiler);
  if (sparse > 0) {
    profiler->runsCombo()->setCurrentIndex(profiler->runsCombo()->findData(sparse));
    profiler->perplexityCheck()->setChecked(true);
    waitFor(profiler, &RoutingProfilePane::jobFinished, [&] { profiler->startProfile(); });
    waitFor(profiler, &RoutingProfilePane::storedLoaded, [] {});
    profiler->strategyCombo()->setCurrentText("balanced");
    waitFor(profiler, &RoutingProfilePane::jobFinished, [&] { profiler->startProfile(); });
    waitFor(profiler, &RoutingProfilePane::storedLoaded, [] {});
    // The top-k profile (the one before the newest) beside the balanced one.
    auto* compare = profiler->compareCombo();
    if (compare->count() > 2) compare->setCurrentIndex(compare->count() - 2);
    save("routing-profile");
    profiler->reassignmentView()->clusterCombo()->setCurrentText("dgx-h100");
    waitFor(profiler, &RoutingProfilePane::jobFinished, [&] { profiler->startReassignment(); });
    save("routing-reassignment");
    profiler->views()->setCurrentIndex(0);
  }
  // Network: a preset, then the sparse run's routing as the traffic.
  auto* network = window.simulatorPane();
  tabs->setCurrentWidget(network);
  const int preset = network->presets()->findText("dgx-h100-zipf");
  if (preset > 0) {
    network->loadScenarioFile(network->presets()->itemData(preset).toString());
    waitFor(network, &SimulatorPane::simulated, [&] { network->run(); });
    save("network");
  }
  if (sparse > 0) {
    waitFor(network, &SimulatorPane::simulated, [&] { network->useRunRouting(sparse, -1); });
    save("network-run-routing");
  }
  // A data-parallel run's page: the per-rank step-time chart.
  for (int r = 0; r < window.runsModel()->rowCount(); ++r) {
    const qint64 id = window.runsModel()->runAt(r)->id;
    if (!window.session()->store().params(id).contains("dist.world_size")) continue;
    tabs->setCurrentWidget(window.runPage());
    window.showRun(id);
    for (int i = 0; i < 25; ++i) {  // the poller delivers the rows within about a second
      QApplication::processEvents();
      QThread::msleep(100);
    }
    save("run-ranks");
    break;
  }
  return ok;
}

}  // namespace moelab::ui
