#pragma once
#include <QWidget>
#include <nlohmann/json.hpp>

class QComboBox;
class QLineEdit;
class QSpinBox;
class QTableWidget;
class QLabel;
class QPushButton;

namespace moelab::ui {

// The sweep spec as a form: name, base experiment (a preset or a file), method, samples and seed,
// metric and goal, concurrency, early stopping and a table of swept parameters (any schema field;
// a list of values, a range with a step, or uniform / log-uniform bounds). Preview expands it and
// lists every point with the engine's message for invalid ones; Start hands the spec on.
class SweepEditor : public QWidget {
  Q_OBJECT
 public:
  explicit SweepEditor(QWidget* parent = nullptr);

  // The spec the form describes (the base inlined). Throws ConfigError for a cell that does not
  // parse (the message names the row).
  nlohmann::json spec() const;
  // Fills the form from a spec (as SweepSpec::toJson writes it, base inlined).
  void setSpec(const nlohmann::json& spec);
  bool loadSpecFile(const QString& path);  // a preset or saved spec; false (message shown) on error
  void setBase(const nlohmann::json& config, const QString& name);

  // Expands the spec into the preview table; false with the message shown when the spec is bad.
  bool preview();
  int previewRows() const;
  int previewInvalid() const { return invalid_; }
  QTableWidget* parameterTable() const { return params_; }
  QPushButton* startButton() const { return start_; }
  QLabel* message() const { return message_; }
  void addParameter(const QString& key, const QString& kind, const QString& values,
                    const QString& extra = {});

 signals:
  void startRequested(const nlohmann::json& spec);

 private:
  void loadBaseFile(const QString& path);
  void updateEnabled();
  void showError(const QString& text);
  QLineEdit* name_;
  QComboBox *base_, *presets_, *method_, *goal_, *metric_, *stopping_;
  QSpinBox *samples_, *seed_, *concurrency_, *grace_, *minRuns_, *reduction_;
  QTableWidget *params_, *preview_;
  QLabel* message_;
  QPushButton* start_;
  nlohmann::json baseDoc_;
  QString baseName_;
  int invalid_ = 0;
};

}  // namespace moelab::ui
