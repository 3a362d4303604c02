#pragma once
#include <QTimer>
#include <QVector>
#include <QWidget>
#include <vector>

#include "store/ExpertArtifacts.h"

class QComboBox;
class QCheckBox;
class QSlider;
class QToolButton;
class QLabel;
class QGridLayout;

namespace moelab::ui {

class HeatmapWidget;
class ColourBar;

// gnn_moe: one heatmap per layer x GNN layer of what the run stored at each evaluation —
// sigmoid(A), the effective coupling A_ij c_ij tokens see, or its spread across tokens — on one
// shared colour scale with a colour bar; a step slider with play/pause replays the evaluations,
// and "change since previous eval" shows the difference (diverging colours).
class CouplingView : public QWidget {
  Q_OBJECT
 public:
  enum Mode { Adjacency = 0, Effective = 1, Spread = 2 };
  explicit CouplingView(QWidget* parent = nullptr);

  // All snapshots so far (ordered by step). Follows the newest when the slider was at the end.
  void setSnapshots(const std::vector<CouplingSnapshot>& snapshots);
  void clear();
  void setMode(Mode m);
  void setChangeMode(bool on);
  void setStepIndex(int index);
  int stepIndex() const;
  int snapshotCount() const { return int(snapshots_.size()); }
  HeatmapWidget* heatmap(int layer, int gnnLayer) const;
  ColourBar* colourBar() const { return bar_; }
  QToolButton* playButton() const { return play_; }
  QSlider* slider() const { return slider_; }
  QLabel* hoverLabel() const { return hover_; }
  bool savePng(const QString& path) const;
  bool saveCsv(const QString& path) const;  // every snapshot, long form

 private:
  void refresh();
  const std::vector<std::vector<Matrix>>& matricesOf(const CouplingSnapshot& s) const;
  void rebuildGrid(int layers, int gnnLayers);
  std::vector<CouplingSnapshot> snapshots_;
  QComboBox* mode_;
  QCheckBox* change_;
  QSlider* slider_;
  QToolButton* play_;
  QLabel *stepLabel_, *note_, *hover_;
  QWidget* grid_;
  QGridLayout* gridLayout_;
  ColourBar* bar_;
  QVector<QVector<HeatmapWidget*>> maps_;
  QTimer timer_;
};

}  // namespace moelab::ui
