#pragma once
#include <QFutureWatcher>
#include <QWidget>

#include "experts/ExpertViewLoader.h"

class QLabel;
class QTabWidget;
class QPushButton;

namespace moelab::ui {

class CouplingView;
class UsageView;
class RoutingView;

// The expert views of one run (the run shown on the Run page): Coupling (gnn_moe adjacency
// heatmaps with replay), Usage (tokens per expert or output shares), Routing (per-layer routing
// charts, sparse_moe). Reads in the background through its own connection, incrementally, and
// refreshes while the run trains — in this process or another one.
class ExpertViewsPane : public QWidget {
  Q_OBJECT
 public:
  explicit ExpertViewsPane(QWidget* parent = nullptr);

  void setDatabase(const QString& path);
  void showRun(qint64 run);
  // Read what is new for the shown run (once more after a read in flight; deferred while hidden).
  void refresh();
  qint64 runId() const { return run_; }
  QString architecture() const { return architecture_; }
  CouplingView* coupling() const { return coupling_; }
  UsageView* usage() const { return usage_; }
  RoutingView* routing() const { return routing_; }
  QTabWidget* tabs() const { return tabs_; }
  // Current tab's content: PNG (the whole view) or CSV (its data, long form).
  bool exportPng(const QString& path) const;
  bool exportCsv(const QString& path) const;

 signals:
  void updated(qint64 run);  // a read finished and the views show it

 protected:
  void showEvent(QShowEvent* e) override;

 private:
  void apply(const ExpertViewUpdate& u);
  void reset(qint64 run);
  QString dbPath_;
  qint64 run_ = 0;
  QString architecture_;
  ExpertViewCursor cursor_;
  ExpertArtifacts artifacts_;
  bool again_ = false;      // a refresh came while reading: read once more after
  bool stale_ = false;      // a refresh came while hidden
  quint64 generation_ = 0;  // bumped when the run or database changes: older reads are dropped
  QFutureWatcher<ExpertViewUpdate> watcher_;
  QLabel* title_;
  QTabWidget* tabs_;
  QPushButton *png_, *csv_;
  CouplingView* coupling_;
  UsageView* usage_;
  RoutingView* routing_;
};

}  // namespace moelab::ui
