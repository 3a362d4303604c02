#pragma once
#include <QWidget>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;
class QTableWidget;

namespace moelab::ui {

// The accuracy-balance-time trade-off in one table: the trained top-k routing and each chosen
// reassignment strategy with its perplexity change, imbalance and simulated all-to-all time on a
// cluster preset. Holds no model: the pane runs the study and hands the table here.
class ReassignmentView : public QWidget {
  Q_OBJECT
 public:
  explicit ReassignmentView(QWidget* parent = nullptr);

  std::vector<std::string> strategies() const;  // the checked ones, as labels
  void setStrategies(const QStringList& labels);
  nlohmann::json scenarioDoc() const;  // the chosen cluster preset, simulator defaults otherwise
  void setBusy(bool busy);
  void showTable(const nlohmann::json& table, const QString& title);
  void clear(const QString& message);

  QPushButton* runButton() const { return run_; }
  QComboBox* clusterCombo() const { return cluster_; }
  QTableWidget* table() const { return table_; }
  QLabel* titleLabel() const { return title_; }
  const nlohmann::json& shown() const { return shown_; }

 signals:
  void runRequested();

 private:
  std::vector<QCheckBox*> checks_;
  QComboBox* cluster_;
  QPushButton* run_;
  QLabel* title_;
  QTableWidget* table_;
  nlohmann::json shown_;
};

}  // namespace moelab::ui
