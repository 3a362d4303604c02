#include "sweeps/ScalingView.h"

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QFile>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QScatterSeries>
#include <QTextStream>
#include <QVBoxLayout>
#include <cmath>
#include <map>

#include "charts/ColourScale.h"
#include "sweep/PowerLawFit.h"

namespace moelab::ui {
namespace {
const QList<QColor> kPalette = {QColor(31, 119, 180), QColor(214, 39, 40), QColor(44, 160, 44),
                                QColor(148, 103, 189), QColor(255, 127, 14)};
}

ScalingView::ScalingView(QWidget* parent) : QWidget(parent) {
  axis_ = new QComboBox;
  axis_->addItems({"parameters N", "training compute 6·N·tokens (FLOPs)",
                   "training compute: model FLOPs/token × tokens"});
  view_ = new QChartView;
  view_->setRenderHint(QPainter::Antialiasing);
  view_->setMinimumHeight(280);
  fit_ = new QLabel;
  fit_->setWordWrap(true);
  fit_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  auto* top = new QHBoxLayout;
  top->addWidget(new QLabel("Best validation loss against"));
  top->addWidget(axis_);
  top->addStretch();
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(view_, 1);
  layout->addWidget(fit_);
  connect(axis_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] { rebuild(); });
}

void ScalingView::setAxis(int which) {
  axis_->setCurrentIndex(which);
}

double ScalingView::xOf(const Point& p) const {
  switch (axis_->currentIndex()) {
    case 1:
      return p.compute6nd;
    case 2:
      return p.computeFlops;
  }
  return p.parameters;
}

void ScalingView::setTables(const std::vector<SweepTable>& tables) {
  points_.clear();
  for (const auto& t : tables) {
    if (t.spec.metric != "val/loss") continue;  // the scaling law is of the validation loss
    for (const auto& r : t.rows) {
      if (r.runId <= 0 || std::isnan(r.best) || r.parameters <= 0) continue;
      Point p;
      p.architecture =
          r.config.value("model", nlohmann::json::object()).value("architecture", std::string("?"));
      p.sweep = t.sweep.name;
      p.run = r.runId;
      p.parameters = double(r.parameters);
      p.compute6nd = std::isnan(r.trainTokens) ? NAN : 6.0 * p.parameters * r.trainTokens;
      p.computeFlops =
          std::isnan(r.trainTokens) || std::isnan(r.flopsPerToken) ? NAN : r.flopsPerToken * r.trainTokens;
      p.loss = r.best;
      points_.push_back(p);
    }
  }
  rebuild();
}

void ScalingView::rebuild() {
  auto* chart = new QChart;
  chart->setTitle("Best validation loss vs " + axis_->currentText());
  auto* x = new QLogValueAxis;
  x->setTitleText(axis_->currentText());
  x->setLabelFormat("%.2e");
  auto* y = new QLogValueAxis;
  y->setTitleText("best val loss");
  y->setLabelFormat("%.3g");
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  std::map<std::string, std::vector<const Point*>> byArch;
  for (const auto& p : points_)
    if (xOf(p) > 0) byArch[p.architecture].push_back(&p);
  QStringList text;
  double xLo = INFINITY, xHi = 0, yLo = INFINITY, yHi = 0;
  int colour = 0;
  for (const auto& [arch, pts] : byArch) {
    const QColor c = kPalette[colour++ % kPalette.size()];
    auto* s = new QScatterSeries;
    s->setName(QString::fromStdString(arch));
    s->setColor(c);
    s->setMarkerSize(9);
    std::vector<double> xs, ys;
    for (const Point* p : pts) {
      s->append(xOf(*p), p->loss);
      xs.push_back(xOf(*p));
      ys.push_back(p->loss);
      xLo = std::min(xLo, xOf(*p)), xHi = std::max(xHi, xOf(*p));
      yLo = std::min(yLo, p->loss), yHi = std::max(yHi, p->loss);
    }
    chart->addSeries(s);
    s->attachAxis(x);
    s->attachAxis(y);
    const PowerLawFit f = fitPowerLaw(xs, ys);
    if (!f.ok) {
      text << QString("<b>%1</b>: no fit (%2)")
                  .arg(QString::fromStdString(arch), QString::fromStdString(f.error));
      continue;
    }
    auto* line = new QLineSeries;
    line->setName(QString::fromStdString(arch) + " fit");
    line->setPen(QPen(c, 2, Qt::DashLine));
    const double lo = *std::min_element(xs.begin(), xs.end()), hi = *std::max_element(xs.begin(), xs.end());
    for (int i = 0; i <= 40; ++i) {
      const double xv = lo * std::pow(hi / lo, i / 40.0), yv = f.predict(xv);
      if (yv > 0) line->append(xv, yv);
    }
    chart->addSeries(line);
    line->attachAxis(x);
    line->attachAxis(y);
    auto pm = [](double v, double se) {
      return std::isnan(se) ? formatValue(v) : formatValue(v) + " ± " + formatValue(se);
    };
    QStringList res;
    for (double r : f.residuals) res << formatValue(r);
    text << QString(
                "<b>%1</b> (n = %2): L = a·x<sup>−α</sup> + c with a = %3, α = %4, c = %5; R² = %6; "
                "residuals %7")
                .arg(QString::fromStdString(arch))
                .arg(f.n)
                .arg(pm(f.a, f.seA), pm(f.alpha, f.seAlpha), pm(f.c, f.seC), QString::number(f.r2, 'f', 4),
                     res.join(", "));
  }
  if (xHi > 0) {
    x->setRange(xLo / 1.5, xHi * 1.5);
    y->setRange(yLo / 1.05, yHi * 1.05);
    // Labels sit at powers of the base: a base spanning the range in about five steps labels a
    // narrow range (losses, one decade of sizes) instead of showing one tick.
    auto fitBase = [](QLogValueAxis* a, double lo, double hi) {
      if (hi / lo < 100) a->setBase(std::max(1.01, std::pow(hi / lo, 1.0 / 5)));
    };
    fitBase(x, xLo / 1.5, xHi * 1.5);
    fitBase(y, yLo / 1.05, yHi * 1.05);
  }
  if (points_.empty())
    text << "No finished sweep runs with a validation loss yet: run a sweep (e.g. cpu-embed-dim) and its "
            "runs appear "
            "here, one colour per architecture.";
  fit_->setText(text.join("<br>"));
  QChart* old = view_->chart();
  view_->setChart(chart);
  delete old;
}

QString ScalingView::fitText() const {
  return fit_->text();
}

bool ScalingView::savePng(const QString& path, const QSize& size) {
  const QSize old = view_->size();
  view_->resize(size);
  QPixmap pm = view_->grab();
  view_->resize(old);
  return pm.save(path, "PNG");
}

bool ScalingView::saveCsv(const QString& path) const {
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) return false;
  QTextStream out(&f);
  out << "architecture,sweep,run_id,parameters,compute_6nd,compute_model_flops,best_val_loss\n";
  for (const auto& p : points_)
    out << QString::fromStdString(p.architecture) << ",\""
        << QString::fromStdString(p.sweep).replace('"', "\"\"") << "\"," << p.run << "," << p.parameters
        << "," << p.compute6nd << "," << p.computeFlops << "," << p.loss << "\n";
  return f.error() == QFile::NoError;
}

}  // namespace moelab::ui
