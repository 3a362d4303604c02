#include "experts/CouplingView.h"

#include <QCheckBox>
#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QToolButton>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <fstream>

#include "charts/ColourScale.h"
#include "charts/HeatmapWidget.h"
#include "io/CsvWriter.h"
#include "widgets/ScrollPanel.h"

namespace moelab::ui {

CouplingView::CouplingView(QWidget* parent) : QWidget(parent) {
  mode_ = new QComboBox;
  mode_->addItems({"sigmoid(A): learned adjacency", "effective coupling A·c (what tokens see)",
                   "spread of A·c across tokens"});
  mode_->setCurrentIndex(Effective);
  change_ = new QCheckBox("Change since previous eval");
  play_ = new QToolButton;
  play_->setText("Play");
  play_->setCheckable(true);
  slider_ = new QSlider(Qt::Horizontal);
  slider_->setRange(0, 0);
  slider_->setPageStep(1);
  stepLabel_ = new QLabel("no evaluations yet");
  stepLabel_->setMinimumWidth(170);
  note_ = new QLabel;
  note_->setWordWrap(true);
  note_->setStyleSheet("color: #8a5a00;");
  note_->hide();
  hover_ = new QLabel(" ");
  hover_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel("Show"));
  controls->addWidget(mode_);
  controls->addWidget(change_);
  controls->addSpacing(12);
  controls->addWidget(play_);
  controls->addWidget(slider_, 1);
  controls->addWidget(stepLabel_);

  grid_ = new QWidget;
  gridLayout_ = new QGridLayout(grid_);
  gridLayout_->setSpacing(10);
  bar_ = new ColourBar;
  auto* scroll = scrollPanel(grid_);
  auto* body = new QHBoxLayout;
  body->addWidget(scroll, 1);
  body->addWidget(bar_);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addWidget(note_);
  layout->addLayout(body, 1);
  layout->addWidget(hover_);

  timer_.setInterval(600);
  connect(&timer_, &QTimer::timeout, this, [this] {
    if (slider_->value() >= slider_->maximum())
      setStepIndex(0);  // replay loops
    else
      setStepIndex(slider_->value() + 1);
  });
  connect(play_, &QToolButton::toggled, this, [this](bool on) {
    play_->setText(on ? "Pause" : "Play");
    if (on)
      timer_.start();
    else
      timer_.stop();
  });
  connect(mode_, &QComboBox::currentIndexChanged, this, &CouplingView::refresh);
  connect(change_, &QCheckBox::toggled, this, &CouplingView::refresh);
  connect(slider_, &QSlider::valueChanged, this, &CouplingView::refresh);
}

void CouplingView::clear() {
  play_->setChecked(false);
  snapshots_.clear();
  slider_->setRange(0, 0);
  rebuildGrid(0, 0);
  refresh();
}

void CouplingView::setSnapshots(const std::vector<CouplingSnapshot>& snapshots) {
  const bool follow = snapshots_.empty() || slider_->value() >= slider_->maximum();
  snapshots_ = snapshots;
  const QSignalBlocker block(slider_);
  slider_->setRange(0, std::max(0, int(snapshots_.size()) - 1));
  if (follow) slider_->setValue(slider_->maximum());
  refresh();
}

void CouplingView::setMode(Mode m) {
  mode_->setCurrentIndex(int(m));
}
void CouplingView::setChangeMode(bool on) {
  change_->setChecked(on);
}
void CouplingView::setStepIndex(int index) {
  slider_->setValue(index);
}
int CouplingView::stepIndex() const {
  return slider_->value();
}

HeatmapWidget* CouplingView::heatmap(int layer, int gnnLayer) const {
  if (layer < 0 || layer >= maps_.size() || gnnLayer < 0 || gnnLayer >= maps_[layer].size()) return nullptr;
  return maps_[layer][gnnLayer];
}

const std::vector<std::vector<Matrix>>& CouplingView::matricesOf(const CouplingSnapshot& s) const {
  switch (Mode(mode_->currentIndex())) {
    case Effective:
      return s.effective;
    case Spread:
      return s.spread;
    default:
      return s.adjacency;
  }
}

void CouplingView::rebuildGrid(int layers, int gnnLayers) {
  if (maps_.size() == layers && (layers == 0 || maps_[0].size() == gnnLayers)) return;
  for (auto& row : maps_)
    for (auto* m : row) delete m;
  maps_.clear();
  for (int l = 0; l < layers; ++l) {
    maps_.push_back({});
    for (int g = 0; g < gnnLayers; ++g) {
      auto* m = new HeatmapWidget;
      m->setTitle(QString("layer %1 · GNN %2").arg(l).arg(g));
      m->setAxisCaptions("to expert", "from expert");
      m->setMinimumSize(170, 170);
      m->setHoverFormat([l, g](int row, int col, double v) {
        if (std::isnan(v))
          return QString("layer %1, GNN %2: expert %3 sends no message to itself").arg(l).arg(g).arg(col);
        return QString("layer %1, GNN %2: expert %3 → expert %4: %5")
            .arg(l)
            .arg(g)
            .arg(col)
            .arg(row)
            .arg(formatValue(v));
      });
      connect(m, &HeatmapWidget::hovered, hover_, &QLabel::setText);
      gridLayout_->addWidget(m, l, g);
      maps_.back().push_back(m);
    }
  }
}

void CouplingView::refresh() {
  const int n = int(snapshots_.size());
  if (n == 0) {
    stepLabel_->setText("no evaluations yet");
    rebuildGrid(0, 0);
    note_->hide();
    return;
  }
  const int k = std::clamp(slider_->value(), 0, n - 1);
  const auto& now = matricesOf(snapshots_[size_t(k)]);
  const bool change = change_->isChecked();
  const std::vector<std::vector<Matrix>>* before =
      change && k > 0 ? &matricesOf(snapshots_[size_t(k - 1)]) : nullptr;
  stepLabel_->setText(QString("step %1 · eval %2 of %3").arg(snapshots_[size_t(k)].step).arg(k + 1).arg(n));
  if (now.empty()) {
    note_->setText(
        "This run stored sigmoid(A) only (it predates the coupling probe, or was trained with "
        "train.expert_views off): choose sigmoid(A).");
    note_->show();
    rebuildGrid(0, 0);
    return;
  }
  note_->setVisible(change && k == 0);
  note_->setText("The first evaluation has no previous one: showing zero change.");
  rebuildGrid(int(now.size()), int(now.front().size()));
  double lo = INFINITY, hi = -INFINITY;
  std::vector<std::vector<Matrix>> shown = now;
  for (size_t l = 0; l < shown.size(); ++l)
    for (size_t g = 0; g < shown[l].size(); ++g)
      for (size_t i = 0; i < shown[l][g].size(); ++i)
        for (size_t j = 0; j < shown[l][g][i].size(); ++j) {
          double& v = shown[l][g][i][j];
          if (change) v = before && l < before->size() ? v - (*before)[l][g][i][j] : 0.0;
          // The diagonal never carries a message (i != j): grey, and out of the colour range.
          if (i == j && mode_->currentIndex() != Adjacency) {
            v = std::nan("");
            continue;
          }
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
  const ColourScale scale =
      ColourScale::spanning(std::isfinite(lo) ? lo : 0, std::isfinite(hi) ? hi : 1, change);
  for (size_t l = 0; l < shown.size(); ++l)
    for (size_t g = 0; g < shown[l].size(); ++g) {
      maps_[int(l)][int(g)]->setScale(scale);
      maps_[int(l)][int(g)]->setMatrix(shown[l][g]);
    }
  bar_->setScale(scale,
                 (change ? "change in " : "") + mode_->currentText().section(':', 0, 0).section(" (", 0, 0));
}

bool CouplingView::savePng(const QString& path) const {
  return const_cast<CouplingView*>(this)->grab().save(path, "PNG");
}

bool CouplingView::saveCsv(const QString& path) const {
  std::ofstream out(path.toStdString());
  if (!out) return false;
  CsvWriter w(out);
  for (const char* h : {"step", "layer", "gnn_layer", "to_expert", "from_expert", "sigmoid_a",
                        "effective_coupling", "coupling_spread"})
    w.text(h);
  w.endRow();
  for (const auto& s : snapshots_)
    for (size_t l = 0; l < s.adjacency.size(); ++l)
      for (size_t g = 0; g < s.adjacency[l].size(); ++g)
        for (size_t i = 0; i < s.adjacency[l][g].size(); ++i)
          for (size_t j = 0; j < s.adjacency[l][g][i].size(); ++j) {
            w.number(double(s.step)).number(double(l)).number(double(g)).number(double(i)).number(double(j));
            w.number(s.adjacency[l][g][i][j]);
            if (l < s.effective.size()) {
              w.number(s.effective[l][g][i][j]).number(s.spread[l][g][i][j]);
            } else {
              w.text("").text("");
            }
            w.endRow();
          }
  return bool(out);
}

}  // namespace moelab::ui
