#pragma once
#include <QMap>
#include <QWidget>
#include <nlohmann/json.hpp>

class QLabel;
class QFormLayout;

namespace moelab {
struct ConfigField;
}

namespace moelab::ui {

// A form for every field of the engine's experiment schema (ConfigSchema::experiment()), grouped
// by section: spin boxes for integers, text for numbers (3e-4 reads as typed), check boxes,
// choice lists, help as tooltips. Fields that do not apply to the chosen architecture are hidden.
// Every edit re-validates with the engine: its message appears under the field it names, and the
// parameter count and training-memory estimate update (closed form; nothing is allocated).
class ExperimentForm : public QWidget {
  Q_OBJECT
 public:
  explicit ExperimentForm(QWidget* parent = nullptr);

  // Fills the form (missing keys take their defaults). Throws ConfigError for unknown keys.
  void setConfig(const nlohmann::json& doc);
  nlohmann::json config() const;  // every field, as the form shows it
  bool isValid() const { return error_.isEmpty(); }
  QString error() const { return error_; }
  QString sizeSummary() const;
  QWidget* editorFor(const QString& path) const { return editors_.value(path); }
  QLabel* messageFor(const QString& path) const { return messages_.value(path); }

 signals:
  void validityChanged(bool valid);
  void configChanged();

 private:
  void revalidate();
  void updateVisibility(const QString& architecture);
  void setValue(const ConfigField& f, const nlohmann::json& v);
  nlohmann::json valueOf(const ConfigField& f) const;

  QMap<QString, QWidget*> editors_, rows_;
  QMap<QString, QLabel*> messages_, labels_;
  QLabel *banner_, *size_;
  QString error_;
  bool loading_ = false;
};

}  // namespace moelab::ui
