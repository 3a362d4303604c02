#include "sweeps/SweepTableModel.h"

#include <QBrush>
#include <QColor>
#include <QFont>
#include <cmath>

#include "report/RunComparison.h"

namespace moelab::ui {
namespace {
enum Fixed { kPoint, kRun, kStatus };
const int kFixedBefore = 3;
const QStringList kAfter = {"best", "final", "parameters", "wall time", "tokens/s", "error"};

QVariant numberOrBlank(double v) {
  return std::isnan(v) ? QVariant() : QVariant(v);
}
QString shortKey(const std::string& key) {
  return QString::fromStdString(key.substr(key.find('.') + 1));
}
}  // namespace

SweepTableModel::SweepTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void SweepTableModel::setTable(const SweepTable& table) {
  beginResetModel();
  table_ = table;
  endResetModel();
}

int SweepTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(table_.rows.size());
}

int SweepTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kFixedBefore + int(table_.varied.size()) + int(kAfter.size());
}

QVariant SweepTableModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  if (section == kPoint) return "point";
  if (section == kRun) return "run";
  if (section == kStatus) return "status";
  const int v = section - kFixedBefore;
  if (v < int(table_.varied.size())) return shortKey(table_.varied[size_t(v)]);
  const int a = v - int(table_.varied.size());
  if (a == 0) return "best " + QString::fromStdString(table_.spec.metric);
  if (a == 1) return "final " + QString::fromStdString(table_.spec.metric);
  return kAfter.value(a);
}

QVariant SweepTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) return {};
  const SweepRow& r = table_.rows[size_t(index.row())];
  const bool best = index.row() == table_.bestRow;
  if (role == kIndexRole) return qint64(r.index);
  if (role == Qt::FontRole && best) {
    QFont f;
    f.setBold(true);
    return f;
  }
  if (role == Qt::BackgroundRole && best) return QBrush(QColor(214, 240, 214));
  if (role == Qt::ForegroundRole && index.column() == kStatus) {
    if (r.status == "failed" || r.status == "diverged" || r.status == "invalid" || r.status == "refused")
      return QBrush(QColor(176, 0, 32));
    if (r.status == "pruned" || r.status == "interrupted") return QBrush(QColor(110, 110, 110));
  }
  if (role == Qt::ToolTipRole && !r.error.empty()) return QString::fromStdString(r.error);
  const bool display = role == Qt::DisplayRole, sort = role == Qt::UserRole;
  if (!display && !sort) return {};
  const int c = index.column();
  if (c == kPoint) return display ? QVariant(QString("#%1").arg(r.index)) : QVariant(qint64(r.index));
  if (c == kRun) return r.runId > 0 ? QVariant(qint64(r.runId)) : QVariant();
  if (c == kStatus) return QString::fromStdString(r.status);
  const int v = c - kFixedBefore;
  if (v < int(table_.varied.size())) {
    const auto& val = r.values.value(table_.varied[size_t(v)], nlohmann::json());
    if (val.is_number()) return val.get<double>();
    return QString::fromStdString(val.is_string() ? val.get<std::string>() : val.dump());
  }
  switch (v - int(table_.varied.size())) {
    case 0:
      return display && !std::isnan(r.best) ? QVariant(QString::fromStdString(formatMetric(r.best)))
                                            : numberOrBlank(r.best);
    case 1:
      return display && !std::isnan(r.final) ? QVariant(QString::fromStdString(formatMetric(r.final)))
                                             : numberOrBlank(r.final);
    case 2:
      if (r.parameters <= 0) return {};
      return display ? QVariant(QString("%1M").arg(double(r.parameters) / 1e6, 0, 'f', 2))
                     : QVariant(qint64(r.parameters));
    case 3:
      if (std::isnan(r.wallSeconds)) return {};
      return display ? QVariant(QString("%1 s").arg(r.wallSeconds, 0, 'f', 0)) : QVariant(r.wallSeconds);
    case 4:
      if (std::isnan(r.tokensPerSecond)) return {};
      return display ? QVariant(QString::number(r.tokensPerSecond, 'f', 0)) : QVariant(r.tokensPerSecond);
    case 5:
      return QString::fromStdString(r.error).left(200);
  }
  return {};
}

SweepFilterProxy::SweepFilterProxy(QObject* parent) : QSortFilterProxyModel(parent) {
  setSortRole(Qt::UserRole);
  setFilterCaseSensitivity(Qt::CaseInsensitive);
  setFilterKeyColumn(-1);
}

void SweepFilterProxy::setBrushed(const QSet<int>& indices, bool active) {
  brushed_ = indices;
  brushActive_ = active;
  invalidateFilter();
}

bool SweepFilterProxy::filterAcceptsRow(int row, const QModelIndex& parent) const {
  if (brushActive_) {
    const int point = sourceModel()->index(row, 0, parent).data(SweepTableModel::kIndexRole).toInt();
    if (!brushed_.contains(point)) return false;
  }
  return QSortFilterProxyModel::filterAcceptsRow(row, parent);
}

}  // namespace moelab::ui
