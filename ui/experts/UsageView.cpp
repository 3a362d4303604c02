#include "experts/UsageView.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QSplitter>
#include <QVBoxLayout>
#include <algorithm>
#include <fstream>
#include <numeric>

#include "charts/BarsWidget.h"
#include "charts/HeatmapWidget.h"
#include "charts/LoadDeviation.h"
#include "io/CsvWriter.h"
#include "widgets/ScrollPanel.h"

namespace moelab::ui {
namespace {
std::vector<double> fractions(const std::vector<double>& v) {
  const double total = std::accumulate(v.begin(), v.end(), 0.0);
  std::vector<double> f;
  for (double x : v) f.push_back(total > 0 ? x / total : 0.0);
  return f;
}
}  // namespace

UsageView::UsageView(QWidget* parent) : QWidget(parent) {
  heading_ = new QLabel;
  heading_->setWordWrap(true);
  slider_ = new QSlider(Qt::Horizontal);
  slider_->setRange(0, 0);
  stepLabel_ = new QLabel("no data yet");
  stepLabel_->setMinimumWidth(150);
  timeLayer_ = new QComboBox;
  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel("Step"));
  controls->addWidget(slider_, 1);
  controls->addWidget(stepLabel_);

  barsArea_ = new QWidget;
  barsGrid_ = new QGridLayout(barsArea_);
  auto* scroll = scrollPanel(barsArea_);

  layerMap_ = new HeatmapWidget;
  layerMap_->setAxisCaptions("layer", "expert");
  layerMap_->setTitle("load vs uniform, layer × expert, at this step (blue under, red over)");
  layerMap_->setHoverFormat([](int r, int c, double v) {
    return QString("layer %1, expert %2: %3").arg(r).arg(c).arg(percentVsUniform(v));
  });
  timeMap_ = new HeatmapWidget;
  timeMap_->setAxisCaptions("expert", "snapshot (oldest → newest)");
  timeMap_->setHoverFormat([this](int r, int c, double v) {
    return QString("step %1, expert %2: %3")
        .arg(c < int(steps_.size()) ? steps_[size_t(c)] : 0)
        .arg(r)
        .arg(percentVsUniform(v));
  });
  auto* timeBox = new QWidget;
  auto* timeLayout = new QVBoxLayout(timeBox);
  timeLayout->setContentsMargins(0, 0, 0, 0);
  auto* pick = new QHBoxLayout;
  pick->addWidget(new QLabel("Over time, layer"));
  pick->addWidget(timeLayer_);
  pick->addStretch(1);
  timeLayout->addLayout(pick);
  auto* timeRow = new QHBoxLayout;
  timeRow->addWidget(timeMap_, 1);
  timeRow->addWidget(timeBar_ = new ColourBar);
  timeLayout->addLayout(timeRow, 1);
  auto* maps = new QSplitter(Qt::Vertical);
  auto* layerBox = new QWidget;
  auto* layerRow = new QHBoxLayout(layerBox);
  layerRow->setContentsMargins(0, 0, 0, 0);
  layerRow->addWidget(layerMap_, 1);
  layerRow->addWidget(layerBar_ = new ColourBar);
  maps->addWidget(layerBox);
  maps->addWidget(timeBox);

  auto* split = new QSplitter(Qt::Horizontal);
  split->addWidget(scroll);
  split->addWidget(maps);
  split->setSizes({640, 520});
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(heading_);
  layout->addLayout(controls);
  layout->addWidget(split, 1);

  connect(slider_, &QSlider::valueChanged, this, &UsageView::refresh);
  connect(timeLayer_, &QComboBox::currentIndexChanged, this, &UsageView::refresh);
}

void UsageView::clear() {
  setSeries({}, {}, false);
}

void UsageView::setCounts(const std::vector<ExpertCountsSnapshot>& counts) {
  std::vector<int64_t> steps;
  std::vector<std::vector<std::vector<double>>> values;
  for (const auto& s : counts) {
    steps.push_back(s.step);
    values.push_back(s.layers);
  }
  setSeries(std::move(steps), std::move(values), false);
}

void UsageView::setShares(const std::vector<CouplingSnapshot>& coupling) {
  std::vector<int64_t> steps;
  std::vector<std::vector<std::vector<double>>> values;
  for (const auto& s : coupling)
    if (!s.share.empty()) {
      steps.push_back(s.step);
      values.push_back(s.share);
    }
  setSeries(std::move(steps), std::move(values), true);
}

void UsageView::setSeries(std::vector<int64_t> steps, std::vector<std::vector<std::vector<double>>> values,
                          bool shares) {
  const bool follow = steps_.empty() || slider_->value() >= slider_->maximum();
  steps_ = std::move(steps);
  values_ = std::move(values);
  shares_ = shares;
  heading_->setText(shares_
                        ? "Each expert's share of the coupled output (mean norm of its post-GNN state, "
                          "normalised over experts), per layer, at each evaluation."
                        : "Tokens routed to each expert (before capacity), per MoE layer, at each log step.");
  const int layers = values_.empty() ? 0 : int(values_.back().size());
  if (timeLayer_->count() != layers) {
    const QSignalBlocker block(timeLayer_);
    timeLayer_->clear();
    for (int l = 0; l < layers; ++l) timeLayer_->addItem(QString::number(l));
  }
  while (bars_.size() > layers) delete bars_.takeLast();
  while (bars_.size() < layers) {
    auto* b = new BarsWidget;
    b->setItemName("expert");
    b->setMinimumHeight(170);
    barsGrid_->addWidget(b, int(bars_.size()) / 2, int(bars_.size()) % 2);
    bars_.push_back(b);
  }
  const QSignalBlocker block(slider_);
  slider_->setRange(0, std::max(0, int(steps_.size()) - 1));
  if (follow) slider_->setValue(slider_->maximum());
  refresh();
}

void UsageView::setStepIndex(int index) {
  slider_->setValue(index);
}

int64_t UsageView::shownStep() const {
  return steps_.empty() ? -1 : steps_[size_t(std::clamp(slider_->value(), 0, int(steps_.size()) - 1))];
}

void UsageView::refresh() {
  if (steps_.empty()) {
    stepLabel_->setText("no data yet");
    layerMap_->setMatrix({});
    timeMap_->setMatrix({});
    return;
  }
  const int k = std::clamp(slider_->value(), 0, int(steps_.size()) - 1);
  stepLabel_->setText(QString("step %1 (%2 of %3)").arg(steps_[size_t(k)]).arg(k + 1).arg(steps_.size()));
  const auto& layers = values_[size_t(k)];
  std::vector<std::vector<double>> deviationRows;
  for (int l = 0; l < int(layers.size()) && l < bars_.size(); ++l) {
    const auto& v = layers[size_t(l)];
    const LoadSummary s = summariseLoad(v);
    const double uniform = v.empty() ? 0 : std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
    auto* b = bars_[l];
    b->setTitle(QString("layer %1").arg(l));
    b->setCaption(QString("CV %1 · Gini %2 · max/mean %3")
                      .arg(s.cv, 0, 'f', 3)
                      .arg(s.gini, 0, 'f', 3)
                      .arg(s.maxOverMean, 0, 'f', 2));
    b->setValues(v);
    b->setReference(uniform, "uniform");
    b->setHoverFormat([uniform, this](int e, double x) {
      return QString("expert %1: %2 %3 (%4× uniform)")
          .arg(e)
          .arg(formatValue(x))
          .arg(shares_ ? "share" : "tokens")
          .arg(uniform > 0 ? x / uniform : 0, 0, 'f', 2);
    });
    deviationRows.push_back(deviationFromUniform(v));
  }
  layerMap_->setScale(symmetricScale(deviationRows));
  layerBar_->setScale(layerMap_->scale(), kDeviationCaption);
  layerMap_->setMatrix(deviationRows);
  const int tl = std::max(0, timeLayer_->currentIndex());
  std::vector<std::vector<double>> overTime;  // [expert][snapshot]
  for (size_t t = 0; t < values_.size(); ++t) {
    if (size_t(tl) >= values_[t].size()) continue;
    auto d = deviationFromUniform(values_[t][size_t(tl)]);
    if (overTime.size() < d.size()) overTime.resize(d.size());
    for (size_t e = 0; e < d.size(); ++e) overTime[e].push_back(d[e]);
  }
  timeMap_->setScale(symmetricScale(overTime));
  timeBar_->setScale(timeMap_->scale(), kDeviationCaption);
  timeMap_->setMatrix(overTime);
  timeMap_->setTitle(QString("layer %1: load vs uniform per expert, %2 %3 (steps %4 to %5)")
                         .arg(tl)
                         .arg(steps_.size())
                         .arg(shares_ ? "evaluations" : "log steps")
                         .arg(steps_.front())
                         .arg(steps_.back()));
}

bool UsageView::savePng(const QString& path) const {
  return const_cast<UsageView*>(this)->grab().save(path, "PNG");
}

bool UsageView::saveCsv(const QString& path) const {
  std::ofstream out(path.toStdString());
  if (!out) return false;
  CsvWriter w(out);
  for (const char* h : {"step", "layer", "expert", shares_ ? "output_share" : "tokens", "fraction"})
    w.text(h);
  w.endRow();
  for (size_t t = 0; t < values_.size(); ++t)
    for (size_t l = 0; l < values_[t].size(); ++l) {
      const auto f = fractions(values_[t][l]);
      for (size_t e = 0; e < f.size(); ++e) {
        w.number(double(steps_[t])).number(double(l)).number(double(e)).number(values_[t][l][e]).number(f[e]);
        w.endRow();
      }
    }
  return bool(out);
}

}  // namespace moelab::ui
