#include "runs/RunsPane.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>
#include <algorithm>

#include "runs/RunsTableModel.h"

namespace moelab::ui {

void RunsFilterProxy::setStatus(const QString& s) {
  status_ = s;
  invalidateRowsFilter();
}
void RunsFilterProxy::setArchitecture(const QString& a) {
  architecture_ = a;
  invalidateRowsFilter();
}
void RunsFilterProxy::setText(const QString& t) {
  text_ = t.trimmed();
  invalidateRowsFilter();
}

bool RunsFilterProxy::filterAcceptsRow(int row, const QModelIndex&) const {
  const auto* m = static_cast<const RunsTableModel*>(sourceModel());
  const RunSummary* r = m->runAt(row);
  if (!r) return false;
  if (!status_.isEmpty() && r->status != status_) return false;
  if (!architecture_.isEmpty() && r->architecture != architecture_) return false;
  if (text_.isEmpty()) return true;
  return r->name.contains(text_, Qt::CaseInsensitive) || r->experiment.contains(text_, Qt::CaseInsensitive) ||
         QString::number(r->id) == text_;
}

RunsPane::RunsPane(RunsTableModel* model, QWidget* parent) : QWidget(parent), model_(model) {
  proxy_ = new RunsFilterProxy(this);
  proxy_->setSourceModel(model);
  proxy_->setSortRole(RunsTableModel::SortRole);
  status_ = new QComboBox;
  status_->addItem("All statuses", QString());
  for (const char* s : {"running", "finished", "interrupted", "failed", "diverged", "pruned", "queued"})
    status_->addItem(s, s);
  architecture_ = new QComboBox;
  architecture_->addItem("All architectures", QString());
  for (const char* a : {"gnn_moe", "dense", "sparse_moe"}) architecture_->addItem(a, a);
  text_ = new QLineEdit;
  text_->setPlaceholderText("Filter by name, experiment or id");
  text_->setClearButtonEnabled(true);
  count_ = new QLabel;
  compare_ = new QPushButton("Compare selected");
  compare_->setToolTip(
      "Select two or more runs (Ctrl- or Shift-click) to overlay their curves and diff their configs");
  compare_->setEnabled(false);
  auto* filters = new QHBoxLayout;
  filters->addWidget(new QLabel("Show"));
  filters->addWidget(status_);
  filters->addWidget(architecture_);
  filters->addWidget(text_, 1);
  filters->addWidget(count_);
  filters->addWidget(compare_);

  view_ = new QTableView;
  view_->setModel(proxy_);
  view_->setSortingEnabled(true);
  view_->sortByColumn(RunsTableModel::Id, Qt::DescendingOrder);
  view_->setSelectionBehavior(QAbstractItemView::SelectRows);
  view_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  view_->setAlternatingRowColors(true);
  view_->verticalHeader()->hide();
  view_->setWordWrap(false);
  // Fixed widths (resize-to-contents would measure every row of a 10,000-run table); the name
  // takes what is left.
  auto* header = view_->horizontalHeader();
  header->setSectionResizeMode(QHeaderView::Interactive);
  header->setSectionResizeMode(RunsTableModel::Name, QHeaderView::Stretch);
  const int widths[RunsTableModel::ColumnCount] = {50, 0, 120, 95, 85, 95, 80, 80, 95, 85, 75, 125, 75};
  for (int c = 0; c < RunsTableModel::ColumnCount; ++c)
    if (widths[c] > 0) view_->setColumnWidth(c, widths[c]);

  // First start: an empty database gets a way in instead of an empty table.
  empty_ = new QWidget;
  auto* hello = new QLabel(
      "<h3>No runs yet</h3><p>Train a small GNN-coupled MoE on WikiText-2 for a few minutes to see every "
      "view fill in: live loss curves, expert coupling, routing. The data is fetched on first use (or load "
      "any preset in the Experiment tab).</p>");
  hello->setWordWrap(true);
  hello->setAlignment(Qt::AlignCenter);
  quickstart_ = new QPushButton("Start the quickstart");
  quickstart_->setToolTip("Loads the quickstart preset and starts it");
  auto* emptyLayout = new QVBoxLayout(empty_);
  emptyLayout->addStretch();
  emptyLayout->addWidget(hello);
  emptyLayout->addWidget(quickstart_, 0, Qt::AlignHCenter);
  emptyLayout->addStretch();
  connect(quickstart_, &QPushButton::clicked, this, &RunsPane::quickstartRequested);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(filters);
  layout->addWidget(view_, 1);
  layout->addWidget(empty_, 1);

  connect(status_, &QComboBox::currentIndexChanged, this, [this] {
    proxy_->setStatus(status_->currentData().toString());
    updateCount();
  });
  connect(architecture_, &QComboBox::currentIndexChanged, this, [this] {
    proxy_->setArchitecture(architecture_->currentData().toString());
    updateCount();
  });
  connect(text_, &QLineEdit::textChanged, this, [this](const QString& t) {
    proxy_->setText(t);
    updateCount();
  });
  connect(view_, &QTableView::activated, this, [this](const QModelIndex& i) {
    if (const RunSummary* r = model_->runAt(proxy_->mapToSource(i).row())) emit runActivated(r->id);
  });
  connect(view_->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
    compare_->setEnabled(view_->selectionModel()->selectedRows().size() >= 2);
    emit selectionChanged();
  });
  connect(compare_, &QPushButton::clicked, this, [this] {
    QList<qint64> ids;
    for (int64_t id : selectedRunIds()) ids << id;
    std::sort(ids.begin(), ids.end());
    emit compareRequested(ids);
  });
  connect(model_, &QAbstractItemModel::rowsInserted, this, &RunsPane::updateCount);
  connect(model_, &QAbstractItemModel::modelReset, this, &RunsPane::updateCount);
  connect(model_, &QAbstractItemModel::rowsRemoved, this, &RunsPane::updateCount);
  updateCount();
}

void RunsPane::updateCount() {
  count_->setText(QString("%1 of %2 runs").arg(proxy_->rowCount()).arg(model_->rowCount()));
  const bool none = model_->rowCount() == 0;
  view_->setVisible(!none);
  empty_->setVisible(none);
}

QList<int64_t> RunsPane::selectedRunIds() const {
  QList<int64_t> ids;
  for (const auto& i : view_->selectionModel()->selectedRows())
    if (const RunSummary* r = model_->runAt(proxy_->mapToSource(i).row())) ids.push_back(r->id);
  return ids;
}

}  // namespace moelab::ui
