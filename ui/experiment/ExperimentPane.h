#pragma once
#include <QWidget>
#include <nlohmann/json.hpp>

class QComboBox;
class QLineEdit;
class QPushButton;

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
  // Folders searched for preset JSON files, in order.
  static QStringList presetFolders();
  void loadFile(const QString& path);
  bool saveFile(const QString& path);
  void setConfig(const nlohmann::json& doc, const QString& experiment);

 signals:
  void startRequested(const nlohmann::json& config, const QString& experiment, const QString& name);

 private:
  ExperimentForm* form_;
  QComboBox* presets_;
  QLineEdit* name_;
  QPushButton* start_;
  QString experiment_ = "experiment";
};

}  // namespace moelab::ui
