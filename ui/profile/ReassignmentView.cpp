#include "profile/ReassignmentView.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>
#include <cmath>

#include "sim/ClusterSpec.h"

namespace moelab::ui {
namespace {

struct Column {
  const char* key;
  const char* header;
  int digits;
  bool percent;  // a fraction shown as a signed percentage
};
const Column kColumns[] = {{"perplexity", "perplexity", 2, false},
                           {"perplexity_change", "Δ perplexity", 2, true},
                           {"gini", "Gini", 4, false},
                           {"cv", "CV", 4, false},
                           {"max_mean", "max/mean", 3, false},
                           {"dead", "dead", 0, false},
                           {"dropped", "dropped", 2, true},
                           {"alltoall_ms", "all-to-all ms", 3, false},
                           {"alltoall_change", "Δ time", 1, true}};

QString cell(const nlohmann::json& row, const Column& c) {
  if (!row.contains(c.key) || !row[c.key].is_number()) return "—";
  const double v = row[c.key].get<double>();
  if (!std::isfinite(v)) return "—";
  if (c.percent) return QString("%1%2 %").arg(v >= 0 ? "+" : "").arg(100 * v, 0, 'f', c.digits);
  return QString::number(v, 'f', c.digits);
}

}  // namespace

ReassignmentView::ReassignmentView(QWidget* parent) : QWidget(parent) {
  auto* picks = new QHBoxLayout;
  picks->addWidget(new QLabel("Strategies"));
  for (const char* s : {"balanced", "round_robin", "random", "topk_filtered", "temperature"}) {
    auto* box = new QCheckBox(s);
    box->setChecked(true);
    checks_.push_back(box);
    picks->addWidget(box);
  }
  picks->addSpacing(12);
  picks->addWidget(new QLabel("Cluster"));
  cluster_ = new QComboBox;
  for (const auto& name : sim::ClusterSpec::presetNames()) cluster_->addItem(QString::fromStdString(name));
  cluster_->setToolTip(
      "The all-to-all of each strategy's measured loads is simulated on this cluster preset");
  picks->addWidget(cluster_);
  run_ = new QPushButton("Compare strategies");
  run_->setToolTip(
      "Profile the chosen run with top-k and with each strategy (perplexity measured), then "
      "simulate each one's all-to-all");
  connect(run_, &QPushButton::clicked, this, &ReassignmentView::runRequested);
  picks->addWidget(run_);
  picks->addStretch(1);

  title_ = new QLabel;
  title_->setWordWrap(true);
  table_ = new QTableWidget(0, int(std::size(kColumns)) + 1);
  QStringList headers{"strategy"};
  for (const auto& c : kColumns) headers << c.header;
  table_->setHorizontalHeaderLabels(headers);
  table_->verticalHeader()->hide();
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(picks);
  layout->addWidget(title_);
  layout->addWidget(table_, 1);
  clear("Pick a run above and Compare strategies, or select a stored comparison.");
}

std::vector<std::string> ReassignmentView::strategies() const {
  std::vector<std::string> out;
  for (auto* c : checks_)
    if (c->isChecked()) out.push_back(c->text().toStdString());
  return out;
}

void ReassignmentView::setStrategies(const QStringList& labels) {
  for (auto* c : checks_) c->setChecked(labels.contains(c->text()));
}

nlohmann::json ReassignmentView::scenarioDoc() const {
  nlohmann::json doc = nlohmann::json::object();
  if (cluster_->currentIndex() >= 0) doc["cluster"]["preset"] = cluster_->currentText().toStdString();
  return doc;
}

void ReassignmentView::setBusy(bool busy) {
  run_->setEnabled(!busy);
}

void ReassignmentView::clear(const QString& message) {
  shown_ = nlohmann::json();
  title_->setText(message);
  table_->setRowCount(0);
}

void ReassignmentView::showTable(const nlohmann::json& t, const QString& title) {
  shown_ = t;
  title_->setText(QString("%1 — over %2 (%3 samples), all-to-all simulated on %4 (%5 GPUs)")
                      .arg(title, QString::fromStdString(t.value("source", std::string())))
                      .arg(t.value("samples", 0))
                      .arg(QString::fromStdString(t.value("cluster", std::string())))
                      .arg(t.value("gpus", 0)));
  const auto rows = t.value("rows", nlohmann::json::array());
  table_->setRowCount(int(rows.size()));
  for (int r = 0; r < int(rows.size()); ++r) {
    const auto& row = rows[size_t(r)];
    table_->setItem(r, 0, new QTableWidgetItem(QString::fromStdString(row.value("strategy", std::string()))));
    for (int c = 0; c < int(std::size(kColumns)); ++c) {
      auto* item = new QTableWidgetItem(cell(row, kColumns[c]));
      item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      table_->setItem(r, c + 1, item);
    }
  }
}

}  // namespace moelab::ui
