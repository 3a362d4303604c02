#pragma once
#include <QSortFilterProxyModel>
#include <QWidget>

class QComboBox;
class QLineEdit;
class QTableView;
class QLabel;
class QPushButton;

namespace moelab::ui {

class RunsTableModel;

// Filters the runs table by status, architecture and free text (name, experiment, id).
class RunsFilterProxy : public QSortFilterProxyModel {
  Q_OBJECT
 public:
  using QSortFilterProxyModel::QSortFilterProxyModel;
  void setStatus(const QString& s);
  void setArchitecture(const QString& a);
  void setText(const QString& t);

 protected:
  bool filterAcceptsRow(int row, const QModelIndex& parent) const override;

 private:
  QString status_, architecture_, text_;
};

// The runs table with its filters. Double-click (or Enter) opens a run.
class RunsPane : public QWidget {
  Q_OBJECT
 public:
  explicit RunsPane(RunsTableModel* model, QWidget* parent = nullptr);
  QList<int64_t> selectedRunIds() const;
  QTableView* view() const { return view_; }
  RunsFilterProxy* proxy() const { return proxy_; }
  QComboBox* statusFilter() const { return status_; }
  QComboBox* architectureFilter() const { return architecture_; }
  QLineEdit* textFilter() const { return text_; }
  QPushButton* compareButton() const { return compare_; }
  // Shown instead of the table while the database has no runs (first start).
  QWidget* emptyState() const { return empty_; }
  QPushButton* quickstartButton() const { return quickstart_; }

 signals:
  void runActivated(qint64 runId);
  void selectionChanged();
  void compareRequested(const QList<qint64>& runIds);
  void quickstartRequested();

 private:
  void updateCount();
  RunsTableModel* model_;
  RunsFilterProxy* proxy_;
  QTableView* view_;
  QComboBox *status_, *architecture_;
  QLineEdit* text_;
  QLabel* count_;
  QPushButton* compare_;
  QWidget* empty_;
  QPushButton* quickstart_;
};

}  // namespace moelab::ui
