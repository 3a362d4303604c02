#pragma once
#include <QWidget>
#include <vector>

#include "sweep/SweepResults.h"

class QChartView;
class QLabel;
class QComboBox;

namespace moelab::ui {

// Scaling across every sweep of the database: each run's best validation loss against its
// parameter count or its training compute (6·N·tokens, or the model's own FLOPs per token times
// tokens) on log axes, one colour per architecture, with a fitted L = a·N^(-alpha) + c per
// architecture (parameters with standard errors, R², residuals). PNG and CSV export.
class ScalingView : public QWidget {
  Q_OBJECT
 public:
  explicit ScalingView(QWidget* parent = nullptr);
  void setTables(const std::vector<SweepTable>& tables);
  QString fitText() const;
  bool savePng(const QString& path, const QSize& size);
  bool saveCsv(const QString& path) const;
  QChartView* chartView() const { return view_; }
  void setAxis(int which);  // 0 parameters, 1 compute (6·N·D), 2 compute (model FLOPs)

 private:
  struct Point {
    std::string architecture, sweep;
    int64_t run = 0;
    double parameters = 0, compute6nd = 0, computeFlops = 0, loss = 0;
  };
  void rebuild();
  double xOf(const Point& p) const;
  std::vector<Point> points_;
  QChartView* view_;
  QLabel* fit_;
  QComboBox* axis_;
};

}  // namespace moelab::ui
