#include "bench/UiBench.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QElapsedTimer>
#include <QLineEdit>
#include <QTableView>
#include <QTemporaryDir>
#include <QTimer>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "MainWindow.h"
#include "charts/MetricChart.h"
#include "experiment/ExperimentPane.h"
#include "run/RunPage.h"
#include "runs/RunsPane.h"
#include "runs/RunsTableModel.h"
#include "store/DatabaseSession.h"
#include "store/ExperimentStore.h"
#include "store/StorePoller.h"

namespace moelab::ui {
namespace {

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5))];
}

double median(std::vector<double> v) {
  return percentile(std::move(v), 0.5);
}

// Gaps between the ticks of a 5 ms timer, beyond 5 ms: how long the event loop was busy.
class StallProbe : public QObject {
 public:
  StallProbe() {
    timer_.setTimerType(Qt::PreciseTimer);
    timer_.setInterval(5);
    connect(&timer_, &QTimer::timeout, this, [this] {
      const double gap = double(clock_.nsecsElapsed()) / 1e6;
      clock_.restart();
      stalls_.push_back(std::max(0.0, gap - 5.0));
    });
    clock_.start();
    timer_.start();
  }
  const std::vector<double>& stalls() const { return stalls_; }

 private:
  QTimer timer_;
  QElapsedTimer clock_;
  std::vector<double> stalls_;
};

void waitUntil(const std::function<bool()>& done, int timeoutMs) {
  QElapsedTimer t;
  t.start();
  while (!done() && t.elapsed() < timeoutMs) QApplication::processEvents(QEventLoop::AllEvents, 5);
}

nlohmann::json quickstartConfig() {
  for (const QString& folder : ExperimentPane::presetFolders()) {
    std::ifstream f(QDir(folder).filePath("quickstart.json").toStdString());
    if (f) return nlohmann::json::parse(f);
  }
  throw std::runtime_error(
      "experiments/quickstart.json not found (install MoE Lab or run from its build tree)");
}

int liveBench(int steps) {
  QTemporaryDir dir;
  MainWindow w;
  w.setQuiet(true);
  w.resize(1400, 900);
  if (!w.openDatabase(dir.filePath("bench.db"))) return 1;
  w.show();
  nlohmann::json cfg = quickstartConfig();
  cfg["train"]["max_steps"] = steps;
  cfg["train"]["log_every"] = 1;  // the most metric traffic a run makes
  int64_t rows = 0;
  QObject::connect(w.session()->poller(), &StorePoller::metricsAppended, &w,
                   [&rows](qint64, const QString&, const QVector<QPointF>& p, const QVector<QPointF>&) {
                     rows += p.size();
                   });
  QString status, refusal;
  QObject::connect(&w, &MainWindow::runEnded, &w, [&status](qint64, const QString& s) { status = s; });
  QObject::connect(&w, &MainWindow::runRefused, &w, [&refusal](const QString& m) { refusal = m; });
  QObject::connect(&w, &MainWindow::dataMissing, &w,
                   [&refusal](const QString& folder, const QString&, const QString&) {
                     refusal = "data set " + folder + " not found (set MOELAB_DATA_DIR)";
                   });
  StallProbe probe;
  QElapsedTimer clock;
  clock.start();
  w.startRun(cfg, "bench-ui", "bench-ui");
  waitUntil([&] { return !status.isEmpty() || !refusal.isEmpty(); }, 3600 * 1000);
  const double seconds = double(clock.elapsed()) / 1000.0;
  if (!refusal.isEmpty()) {
    std::fprintf(stderr, "error: %s\n", qPrintable(refusal));
    return 2;
  }
  int redraws = 0, maxChartRedraws = 0;
  for (const QString& key : RunPage::chartedKeys()) {
    const int n = w.runPage()->chart(key)->redrawCount();
    redraws += n;
    maxChartRedraws = std::max(maxChartRedraws, n);
  }
  const auto& stalls = probe.stalls();
  const double maxStall = stalls.empty() ? 0 : *std::max_element(stalls.begin(), stalls.end());
  const double perChart = double(maxChartRedraws) / seconds;
  nlohmann::json out = {{"mode", "live"},
                        {"steps", steps},
                        {"status", status.toStdString()},
                        {"seconds", seconds},
                        {"probe_ticks", stalls.size()},
                        {"stall_max_ms", maxStall},
                        {"stall_p99_ms", percentile(stalls, 0.99)},
                        {"redraws_total", redraws},
                        {"redraws_per_second_all_charts", double(redraws) / seconds},
                        {"redraws_per_second_busiest_chart", perChart},
                        {"metric_rows_received", rows},
                        {"targets", {{"stall_max_ms", 100}, {"redraws_per_second_per_chart", 25}}}};
  out["ok"] = status == "finished" && maxStall < 100 && perChart <= 25;
  std::printf("%s\n", out.dump(2).c_str());
  return out["ok"].get<bool>() ? 0 : 1;
}

int largeBench(int runs, int rowsPerRun) {
  QTemporaryDir dir;
  const QString db = dir.filePath("large.db");
  QElapsedTimer clock;
  clock.start();
  {
    ExperimentStore store(db.toStdString());
    const char* archs[] = {"gnn_moe", "dense", "sparse_moe"};
    const char* statuses[] = {"finished", "finished", "interrupted", "failed", "diverged"};
    const int perKey = std::max(1, rowsPerRun / 4);
    std::vector<MetricPoint> rows;
    for (int r = 0; r < runs; ++r) {
      nlohmann::json cfg = {{"model", {{"architecture", archs[r % 3]}, {"num_experts", 4 + r % 5}}},
                            {"train", {{"learning_rate", 1e-3 * (1 + r % 7)}, {"max_steps", perKey * 10}}}};
      const int64_t id = store.createRun("sweep-" + std::to_string(r / 100), "run " + std::to_string(r), cfg);
      rows.clear();
      for (int i = 0; i < perKey; ++i) {
        const double step = 10.0 * (i + 1), loss = 6.0 * std::exp(-step / 2000.0) + 0.001 * (r % 97);
        rows.push_back({"train/loss", int64_t(step), loss, 1.7e9 + step});
        rows.push_back({"train/lr", int64_t(step), 1e-3, 1.7e9 + step});
        rows.push_back({"val/loss", int64_t(step), loss + 0.1, 1.7e9 + step});
        rows.push_back({"val/perplexity", int64_t(step), std::exp(loss + 0.1), 1.7e9 + step});
      }
      store.logMetrics(id, rows);
      store.putArtifact(id, "plan", 0, {{"total_steps", perKey * 10}, {"parameters", 1000000 + r}});
      store.setStatus(id, statuses[r % 5]);
    }
  }
  const double buildSeconds = double(clock.elapsed()) / 1000.0;

  // Opening: from openDatabase to a filled, sorted runs table.
  MainWindow w;
  w.setQuiet(true);
  w.resize(1400, 900);
  w.show();
  QApplication::processEvents();
  clock.restart();
  if (!w.openDatabase(db)) return 1;
  waitUntil([&] { return w.runsModel()->rowCount() == runs; }, 120000);
  QApplication::processEvents();
  const double openMs = double(clock.nsecsElapsed()) / 1e6;
  const bool opened = w.runsModel()->rowCount() == runs;
  w.runsPane()->view()->sortByColumn(RunsTableModel::BestValPpl, Qt::AscendingOrder);
  clock.restart();
  w.runsPane()->view()->sortByColumn(RunsTableModel::TrainLoss, Qt::AscendingOrder);
  const double sortMs = double(clock.nsecsElapsed()) / 1e6;

  // Filtering by free text, one keystroke at a time.
  std::vector<double> filterMs;
  QString text;
  for (QChar c : QString("run 777")) {
    text += c;
    clock.restart();
    w.runsPane()->textFilter()->setText(text);
    filterMs.push_back(double(clock.nsecsElapsed()) / 1e6);
  }
  const int matches = w.runsPane()->proxy()->rowCount();

  // A 100,000-point series: redraw (downsample + replace + paint) after each append.
  MetricChart chart("100,000 points");
  chart.resize(900, 500);
  chart.show();
  QVector<QPointF> points;
  points.reserve(100000);
  for (int i = 0; i < 100000; ++i)
    points.push_back({double(i), 3.0 + std::sin(i / 500.0) + 0.1 * std::sin(i * 1.7)});
  chart.appendPoints("series", points);
  chart.setSmoothing(0.6);
  std::vector<double> redrawMs;
  for (int i = 0; i < 15; ++i) {
    chart.appendPoints("series", {QPointF(100000.0 + i, 3.0)});
    clock.restart();
    chart.redrawNow();
    chart.repaint();
    redrawMs.push_back(double(clock.nsecsElapsed()) / 1e6);
  }
  nlohmann::json out = {{"mode", "large"},
                        {"runs", runs},
                        {"metric_rows", int64_t(runs) * (rowsPerRun / 4) * 4},
                        {"build_seconds", buildSeconds},
                        {"open_to_sorted_table_ms", openMs},
                        {"resort_ms", sortMs},
                        {"filter_keystroke_ms_median", median(filterMs)},
                        {"filter_keystroke_ms_max", *std::max_element(filterMs.begin(), filterMs.end())},
                        {"filter_matches", matches},
                        {"redraw_100k_points_ms_median", median(redrawMs)},
                        {"redraw_100k_points_ms_max", *std::max_element(redrawMs.begin(), redrawMs.end())},
                        {"drawn_points", chart.drawnPointCount()},
                        {"targets", {{"open_ms", 1000}, {"filter_ms", 100}, {"redraw_ms", 50}}}};
  out["ok"] =
      opened && openMs < 1000 && out["filter_keystroke_ms_max"].get<double>() < 100 && median(redrawMs) < 50;
  std::printf("%s\n", out.dump(2).c_str());
  return out["ok"].get<bool>() ? 0 : 1;
}

}  // namespace

int runUiBench(const QStringList& arguments) {
  QCommandLineParser p;
  p.addOption({"bench-ui", "UI benchmark."});
  p.addOption({"large", "Database scale benchmark."});
  p.addOption({"steps", "Training steps (live).", "N", "200"});
  p.addOption({"runs", "Runs (--large).", "N", "10000"});
  p.addOption({"rows", "Metric rows per run (--large).", "N", "1000"});
  if (!p.parse(arguments)) {
    std::fprintf(stderr, "error: %s\n", qPrintable(p.errorText()));
    return 2;
  }
  bool ok1 = false, ok2 = false, ok3 = false;
  const int steps = p.value("steps").toInt(&ok1), runs = p.value("runs").toInt(&ok2),
            rows = p.value("rows").toInt(&ok3);
  if (!ok1 || !ok2 || !ok3 || steps < 1 || runs < 1 || rows < 4) {
    std::fprintf(stderr, "error: --steps, --runs and --rows take positive integers (--rows at least 4)\n");
    return 2;
  }
  try {
    return p.isSet("large") ? largeBench(runs, rows) : liveBench(steps);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}

}  // namespace moelab::ui
