#pragma once
#include <QWidget>
#include <vector>

#include "profile/RoutingProfile.h"

class QLabel;
class QTableWidget;
class QGridLayout;

namespace moelab::ui {

class HeatmapWidget;
class ColourBar;
class BarsWidget;

// One routing profile drawn: a summary line, the layer × expert heatmap of load against the
// uniform share (gnn_moe: each expert's share of the coupled output), one bar chart per layer
// with the uniform level dashed, and the per-layer imbalance table.
class RoutingProfileView : public QWidget {
  Q_OBJECT
 public:
  explicit RoutingProfileView(QWidget* parent = nullptr);

  void setProfile(const RoutingProfile& profile, const QString& title);
  void clear(const QString& message);
  // Largest |load / uniform - 1| of the heatmap: two views side by side share one colour range.
  double deviationMagnitude() const { return magnitude_; }
  void setColourMagnitude(double m);

  bool empty() const { return empty_; }
  const RoutingProfile& profile() const { return profile_; }
  HeatmapWidget* heatmap() const { return heatmap_; }
  const std::vector<BarsWidget*>& layerBars() const { return bars_; }
  QTableWidget* metricsTable() const { return table_; }
  QLabel* titleLabel() const { return title_; }
  QLabel* summaryLabel() const { return summary_; }

 private:
  void fillTable();
  void rebuildBars(const std::vector<std::vector<double>>& values, const QString& what);
  RoutingProfile profile_;
  bool empty_ = true;
  double magnitude_ = 0;
  QLabel *title_, *summary_;
  HeatmapWidget* heatmap_;
  ColourBar* colourBar_;
  QGridLayout* barsGrid_;
  std::vector<BarsWidget*> bars_;
  QTableWidget* table_;
};

}  // namespace moelab::ui
