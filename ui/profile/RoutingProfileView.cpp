#include "profile/RoutingProfileView.h"

#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <cmath>
#include <numeric>

#include "charts/BarsWidget.h"
#include "charts/ColourScale.h"
#include "charts/HeatmapWidget.h"
#include "charts/LoadDeviation.h"
#include "widgets/ScrollPanel.h"

namespace moelab::ui {
namespace {

QString fixed(double v, int digits) {
  return std::isfinite(v) ? QString::number(v, 'f', digits) : "∞";
}

// Per layer, the values a row of the heatmap and a bar chart show: assignments per expert
// (sparse_moe) or each expert's share of the coupled output (gnn_moe).
std::vector<std::vector<double>> layerValues(const RoutingProfile& p) {
  std::vector<std::vector<double>> rows;
  for (const auto& l : p.layers) rows.emplace_back(l.counts.begin(), l.counts.end());
  for (const auto& c : p.couplings) rows.push_back(c.share);
  return rows;
}

}  // namespace

RoutingProfileView::RoutingProfileView(QWidget* parent) : QWidget(parent) {
  title_ = new QLabel;
  title_->setStyleSheet("font-weight: bold");
  title_->setWordWrap(true);
  summary_ = new QLabel;
  summary_->setWordWrap(true);
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  heatmap_ = new HeatmapWidget;
  heatmap_->setAxisCaptions("layer", "expert");
  heatmap_->setHoverFormat([this](int r, int c, double v) {
    QString text = QString("layer %1, expert %2: %3").arg(r).arg(c).arg(percentVsUniform(v));
    if (size_t(r) < profile_.layers.size())
      text += QString(" (%1 assignments)").arg(profile_.layers[size_t(r)].counts[size_t(c)]);
    return text;
  });
  colourBar_ = new ColourBar;
  auto* mapBox = new QWidget;
  auto* mapRow = new QHBoxLayout(mapBox);
  mapRow->setContentsMargins(0, 0, 0, 0);
  mapRow->addWidget(heatmap_, 1);
  mapRow->addWidget(colourBar_);

  auto* barsArea = new QWidget;
  barsGrid_ = new QGridLayout(barsArea);
  barsGrid_->setContentsMargins(0, 0, 0, 0);

  table_ = new QTableWidget(0, 8);
  table_->setHorizontalHeaderLabels(
      {"layer", "Gini", "CV", "entropy", "max/mean", "max/min", "dead", "dropped"});
  table_->verticalHeader()->hide();
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  table_->setMinimumHeight(90);

  auto* split = new QSplitter(Qt::Vertical);
  split->addWidget(mapBox);
  split->addWidget(scrollPanel(barsArea));
  split->addWidget(table_);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 4);
  split->setStretchFactor(2, 1);
  split->setSizes({300, 360, 110});  // the bars need height to read; the table has few rows

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(title_);
  layout->addWidget(summary_);
  layout->addWidget(split, 1);
  clear("No profile selected: run one with Profile, or pick a stored one.");
}

void RoutingProfileView::clear(const QString& message) {
  empty_ = true;
  profile_ = {};
  magnitude_ = 0;
  title_->setText(message);
  summary_->clear();
  heatmap_->setMatrix({});
  heatmap_->setTitle({});
  rebuildBars({}, {});
  table_->setRowCount(0);
}

void RoutingProfileView::setProfile(const RoutingProfile& p, const QString& title) {
  profile_ = p;
  empty_ = false;
  title_->setText(title);
  const QLocale locale;
  QString summary = QString("%1 · %2 · %3 samples, %4 tokens · ")
                        .arg(QString::fromStdString(p.architecture), QString::fromStdString(p.source))
                        .arg(locale.toString(qlonglong(p.samples)), locale.toString(qlonglong(p.tokens)));
  const bool sparse = !p.layers.empty();
  if (sparse) {
    const LoadImbalance m = p.mean();
    summary += QString("top-%1 of %2 experts, strategy %3 · mean Gini %4, CV %5, max/mean %6, dead %7")
                   .arg(p.topK)
                   .arg(p.experts)
                   .arg(QString::fromStdString(p.strategy))
                   .arg(fixed(m.gini, 3), fixed(m.cv, 3), fixed(m.maxMean, 2))
                   .arg(m.dead);
  } else {
    summary += QString("%1 experts, all on every token (expert coupling)").arg(p.experts);
  }
  summary += p.lossMeasured ? QString(" · perplexity %1").arg(fixed(p.perplexity, 2))
                            : QString(" · perplexity not measured");
  summary += QString(" · %1 s").arg(fixed(p.seconds, 2));
  summary_->setText(summary);

  const auto values = layerValues(p);
  std::vector<std::vector<double>> deviation;
  for (const auto& v : values) deviation.push_back(deviationFromUniform(v));
  magnitude_ = 0;
  for (const auto& r : deviation)
    for (double x : r) magnitude_ = std::max(magnitude_, std::abs(x));
  heatmap_->setTitle(sparse ? "load vs uniform, layer × expert (blue under, red over)"
                            : "share of the coupled output vs uniform, layer × expert");
  heatmap_->setMatrix(deviation);
  setColourMagnitude(magnitude_);
  rebuildBars(values, sparse ? "assignments" : "output share");
  fillTable();
}

void RoutingProfileView::setColourMagnitude(double m) {
  heatmap_->setScale(ColourScale::spanning(-m, m, true));
  colourBar_->setScale(heatmap_->scale(), kDeviationCaption);
}

void RoutingProfileView::rebuildBars(const std::vector<std::vector<double>>& values, const QString& what) {
  for (auto* b : bars_) delete b;
  bars_.clear();
  const int columns = values.size() > 4 ? 3 : 2;
  for (size_t l = 0; l < values.size(); ++l) {
    const auto& v = values[l];
    const double uniform = v.empty() ? 0 : std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
    auto* b = new BarsWidget;
    b->setItemName("expert");
    b->setTitle(QString("layer %1").arg(l));
    const LoadImbalance m = LoadImbalance::of(v);
    b->setCaption(
        QString("Gini %1 · CV %2 · max/mean %3").arg(fixed(m.gini, 3), fixed(m.cv, 3), fixed(m.maxMean, 2)));
    b->setValues(v);
    b->setReference(uniform, "uniform");
    b->setHoverFormat([uniform, what](int e, double x) {
      return QString("expert %1: %2 %3 (%4× uniform)")
          .arg(e)
          .arg(formatValue(x), what)
          .arg(uniform > 0 ? x / uniform : 0, 0, 'f', 2);
    });
    b->setMinimumHeight(150);
    barsGrid_->addWidget(b, int(l) / columns, int(l) % columns);
    bars_.push_back(b);
  }
}

void RoutingProfileView::fillTable() {
  const bool sparse = !profile_.layers.empty();
  const auto values = layerValues(profile_);
  table_->setRowCount(int(values.size()));
  for (size_t l = 0; l < values.size(); ++l) {
    const LoadImbalance m = LoadImbalance::of(values[l]);
    const double dropped =
        sparse && m.total > 0 ? double(profile_.layers[l].dropped) / m.total : std::nan("");
    const QStringList cells = {
        QString::number(l),      fixed(m.gini, 4),
        fixed(m.cv, 4),          fixed(m.entropy, 4),
        fixed(m.maxMean, 3),     fixed(m.maxMin, 2),
        QString::number(m.dead), std::isnan(dropped) ? "—" : QString("%1 %").arg(100 * dropped, 0, 'f', 2)};
    for (int c = 0; c < cells.size(); ++c) {
      auto* item = new QTableWidgetItem(cells[c]);
      item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      table_->setItem(int(l), c, item);
    }
  }
}

}  // namespace moelab::ui
