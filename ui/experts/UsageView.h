#pragma once
#include <QVector>
#include <QWidget>
#include <vector>

#include "store/ExpertArtifacts.h"

class QSlider;
class QLabel;
class QComboBox;
class QGridLayout;

namespace moelab::ui {

class BarsWidget;
class HeatmapWidget;
class ColourBar;

// Which experts carry the load. sparse_moe: tokens per expert per layer at the chosen log step (bars
// with the uniform level and CV, Gini, max/mean beside each layer), a layer x expert heatmap of
// load fractions at that step, and one layer's expert loads over time. gnn_moe: each expert's share
// of the coupled output per layer at the chosen evaluation.
class UsageView : public QWidget {
  Q_OBJECT
 public:
  explicit UsageView(QWidget* parent = nullptr);

  void setCounts(const std::vector<ExpertCountsSnapshot>& counts);  // sparse_moe
  void setShares(const std::vector<CouplingSnapshot>& coupling);    // gnn_moe
  void clear();
  void setStepIndex(int index);
  int snapshotCount() const { return int(steps_.size()); }
  int64_t shownStep() const;
  BarsWidget* layerBars(int layer) const { return layer < bars_.size() ? bars_[layer] : nullptr; }
  HeatmapWidget* layerHeatmap() const { return layerMap_; }
  HeatmapWidget* timeHeatmap() const { return timeMap_; }
  ColourBar* layerColourBar() const { return layerBar_; }
  QSlider* slider() const { return slider_; }
  bool savePng(const QString& path) const;
  bool saveCsv(const QString& path) const;

 private:
  void setSeries(std::vector<int64_t> steps, std::vector<std::vector<std::vector<double>>> values,
                 bool shares);
  void refresh();
  std::vector<int64_t> steps_;
  std::vector<std::vector<std::vector<double>>> values_;  // [snapshot][layer][expert]
  bool shares_ = false;
  QSlider* slider_;
  QLabel *stepLabel_, *heading_;
  QComboBox* timeLayer_;
  QWidget* barsArea_;
  QGridLayout* barsGrid_;
  QVector<BarsWidget*> bars_;
  HeatmapWidget *layerMap_, *timeMap_;
  ColourBar *layerBar_, *timeBar_;
};

}  // namespace moelab::ui
