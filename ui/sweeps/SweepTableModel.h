#pragma once
#include <QAbstractTableModel>
#include <QSet>
#include <QSortFilterProxyModel>

#include "sweep/SweepResults.h"

namespace moelab::ui {

// A sweep's points as a table: point, run, status, one column per swept parameter, the metric's
// best and final value, parameter count, wall time, tokens/s, error. The best point is bold on a
// green background. Qt::UserRole holds numbers for sorting; kIndexRole the point's index.
class SweepTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  static constexpr int kIndexRole = Qt::UserRole + 1;
  explicit SweepTableModel(QObject* parent = nullptr);
  void setTable(const SweepTable& table);
  const SweepTable& table() const { return table_; }
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;
  int bestRow() const { return table_.bestRow; }

 private:
  SweepTable table_;
};

// Filters a sweep table by text (any column) and by the set of point indices the parallel
// coordinates' brushes let through (all when no brush is set); sorts numerically.
class SweepFilterProxy : public QSortFilterProxyModel {
  Q_OBJECT
 public:
  explicit SweepFilterProxy(QObject* parent = nullptr);
  void setBrushed(const QSet<int>& indices, bool active);
  bool brushActive() const { return brushActive_; }

 protected:
  bool filterAcceptsRow(int row, const QModelIndex& parent) const override;

 private:
  QSet<int> brushed_;
  bool brushActive_ = false;
};

}  // namespace moelab::ui
