#pragma once
#include <QWidget>
#include <nlohmann/json.hpp>

class QComboBox;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace moelab::ui {

class ExperimentForm;

// Compose an experiment: presets (experiments/ installed or in the source tree), load and save
// JSON, the schema-driven form, a run name, and Start (enabled only while the config is valid).
class ExperimentPane : public QWidget {
  Q_OBJECT
 public:
  explicit ExperimentPane(QWidget* parent = nullptr);
  ExperimentForm* form() const { return form_; }
  QPushButton* startButton() const { return start_; }
  QLineEdit* nameEdit() const { return name_; }
  QSpinBox* ranksBox() const { return ranks_; }
  // Folders searched for preset JSON files, in order.
  static QStringList presetFolders();
  void loadFile(const QString& path);
  bool saveFile(const QString& path);
  void setConfig(const nlohmann::json& doc, const QString& experiment);

 signals:
  // ranks > 1: data parallel on that many local processes.
  void startRequested(const nlohmann::json& config, const QString& experiment, const QString& name,
                      int ranks);

 private:
  ExperimentForm* form_;
  QComboBox* presets_;
  QLineEdit* name_;
  QPushButton* start_;
  QSpinBox* ranks_;
  QString experiment_ = "experiment";
};

}  // namespace moelab::ui
