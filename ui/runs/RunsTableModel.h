#pragma once
#include <QAbstractTableModel>
#include <QHash>

#include "store/RunSummary.h"

namespace moelab::ui {

// The runs table: one row per run of the open database. setRuns() replaces the whole table;
// mergeRuns() updates changed rows in place and appends new runs, so selections and scroll
// positions survive the once-a-second refresh.
class RunsTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column {
    Id,
    Name,
    Experiment,
    Architecture,
    Status,
    Progress,
    TrainLoss,
    ValLoss,
    BestValPpl,
    Parameters,
    TokensPerSecond,
    Started,
    Duration,
    ColumnCount
  };
  static constexpr int SortRole = Qt::UserRole + 1;  // numbers as numbers, times as epoch seconds

  using QAbstractTableModel::QAbstractTableModel;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

  void setRuns(const RunSummaries& runs);
  void mergeRuns(const RunSummaries& changed);
  const RunSummary* runAt(int row) const;
  int rowOf(int64_t runId) const;

 private:
  RunSummaries runs_;
  QHash<int64_t, int> rowById_;
};

// Status colours shared by the table and the run page.
QColor statusColor(const QString& status);

}  // namespace moelab::ui
