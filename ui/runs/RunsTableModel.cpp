#include "runs/RunsTableModel.h"

#include <QBrush>
#include <QColor>
#include <QLocale>
#include <cmath>

namespace moelab::ui {

QColor statusColor(const QString& status) {
  if (status == "running") return QColor(0x1f, 0x6f, 0xd1);
  if (status == "finished") return QColor(0x1a, 0x7f, 0x37);
  if (status == "failed" || status == "diverged") return QColor(0xc0, 0x1c, 0x28);
  if (status == "interrupted") return QColor(0xb3, 0x5c, 0x00);
  return QColor(0x5e, 0x5c, 0x64);  // queued and anything else
}

namespace {
QString number(double v, int precision) {
  return std::isfinite(v) ? QString::number(v, 'f', precision) : QString();
}
QString duration(double s) {
  if (!std::isfinite(s) || s < 0) return {};
  const qint64 t = qint64(s);
  return t >= 3600 ? QString("%1:%2:%3")
                         .arg(t / 3600)
                         .arg(t / 60 % 60, 2, 10, QChar('0'))
                         .arg(t % 60, 2, 10, QChar('0'))
                   : QString("%1:%2").arg(t / 60, 2, 10, QChar('0')).arg(t % 60, 2, 10, QChar('0'));
}
QString parameters(int64_t n) {
  if (n <= 0) return {};
  return n >= 1'000'000'000 ? QString::number(double(n) / 1e9, 'f', 2) + " B"
                            : QString::number(double(n) / 1e6, 'f', 2) + " M";
}
}  // namespace

int RunsTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(runs_.size());
}
int RunsTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant RunsTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* names[] = {"ID",       "Name",       "Experiment", "Architecture", "Status",
                                "Step",     "Train loss", "Val loss",   "Best val ppl", "Parameters",
                                "Tokens/s", "Started",    "Duration"};
  return section >= 0 && section < ColumnCount ? QVariant(names[section]) : QVariant();
}

QVariant RunsTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= runs_.size()) return {};
  const RunSummary& r = runs_[index.row()];
  const auto col = Column(index.column());
  if (role == SortRole) {
    switch (col) {
      case Id:
        return qlonglong(r.id);
      case Progress:
        return qlonglong(r.step);
      case TrainLoss:
        return std::isfinite(r.trainLoss) ? r.trainLoss : 1e300;
      case ValLoss:
        return std::isfinite(r.valLoss) ? r.valLoss : 1e300;
      case BestValPpl:
        return std::isfinite(r.bestValPerplexity) ? r.bestValPerplexity : 1e300;
      case Parameters:
        return qlonglong(r.parameters);
      case TokensPerSecond:
        return std::isfinite(r.tokensPerSecond) ? r.tokensPerSecond : -1.0;
      case Started:
        return r.started.isValid() ? r.started.toSecsSinceEpoch() : 0;
      case Duration:
        return std::isfinite(r.durationSeconds()) ? r.durationSeconds() : -1.0;
      default:
        return data(index, Qt::DisplayRole);
    }
  }
  if (role == Qt::ForegroundRole && col == Status) return QBrush(statusColor(r.status));
  if (role == Qt::ToolTipRole && !r.error.isEmpty()) return r.error;
  if (role == Qt::TextAlignmentRole && col != Name && col != Experiment && col != Architecture &&
      col != Status)
    return int(Qt::AlignRight | Qt::AlignVCenter);
  if (role != Qt::DisplayRole) return {};
  switch (col) {
    case Id:
      return qlonglong(r.id);
    case Name:
      return r.name;
    case Experiment:
      return r.experiment;
    case Architecture:
      return r.architecture;
    case Status:
      return r.status;
    case Progress:
      return r.totalSteps > 0 ? QString("%1 / %2").arg(r.step).arg(r.totalSteps) : QString::number(r.step);
    case TrainLoss:
      return number(r.trainLoss, 4);
    case ValLoss:
      return number(r.valLoss, 4);
    case BestValPpl:
      return number(r.bestValPerplexity, 2);
    case Parameters:
      return parameters(r.parameters);
    case TokensPerSecond:
      return number(r.tokensPerSecond, 0);
    case Started:
      return r.started.isValid() ? r.started.toLocalTime().toString("yyyy-MM-dd HH:mm") : QString();
    case Duration:
      return duration(r.durationSeconds());
    default:
      return {};
  }
}

void RunsTableModel::setRuns(const RunSummaries& runs) {
  beginResetModel();
  runs_ = runs;
  rowById_.clear();
  for (int i = 0; i < runs_.size(); ++i) rowById_[runs_[i].id] = i;
  endResetModel();
}

void RunsTableModel::mergeRuns(const RunSummaries& changed) {
  // Known runs are updated in place, row by row (selections, sorting and scroll positions
  // survive); new runs are appended in one insertion.
  RunSummaries added;
  for (const auto& r : changed) {
    const int row = rowById_.value(r.id, -1);
    if (row < 0) {
      added.push_back(r);
      continue;
    }
    runs_[row] = r;
    emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
  }
  if (added.isEmpty()) return;
  const int old = int(runs_.size());
  beginInsertRows({}, old, old + int(added.size()) - 1);
  for (const auto& r : added) {
    rowById_[r.id] = int(runs_.size());
    runs_.push_back(r);
  }
  endInsertRows();
}

const RunSummary* RunsTableModel::runAt(int row) const {
  return row >= 0 && row < runs_.size() ? &runs_[row] : nullptr;
}

int RunsTableModel::rowOf(int64_t runId) const {
  return rowById_.value(runId, -1);
}

}  // namespace moelab::ui
