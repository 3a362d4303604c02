#pragma once
#include <QMap>
#include <QWidget>
#include <nlohmann/json.hpp>

class QLabel;
class QVBoxLayout;

namespace moelab {
struct ConfigField;
class ConfigSchema;
}  // namespace moelab

namespace moelab::ui {

// A form for every field of a ConfigSchema (the experiment's, the network simulator's), grouped by
// section: spin boxes for integers, text for numbers (3e-4 reads as typed), check boxes, choice
// lists, JSON text for arrays, help as tooltips. Every edit re-validates through check() — the
// engine's own validation — and its message appears under the field it names (the message's
// "section.key:" prefix) and in a banner.
class SchemaForm : public QWidget {
  Q_OBJECT
 public:
  SchemaForm(const ConfigSchema& schema, QWidget* parent = nullptr);

  // Fills the form (missing keys take their defaults). Throws ConfigError for unknown keys.
  void setConfig(const nlohmann::json& doc);
  nlohmann::json config() const;  // every field, as the form shows it
  bool isValid() const { return error_.isEmpty(); }
  QString error() const { return error_; }
  QWidget* editorFor(const QString& path) const { return editors_.value(path); }
  QLabel* messageFor(const QString& path) const { return messages_.value(path); }
  void setFieldVisible(const QString& path, bool visible);

 signals:
  void validityChanged(bool valid);
  void configChanged();

 protected:
  // Throws (ConfigError, UserError) with "section.key: ..." messages when `doc` is not valid.
  virtual void check(const nlohmann::json& doc) = 0;
  // Call at the end of the subclass constructor (virtual check() is not callable earlier).
  void initialise();
  QVBoxLayout* header() const { return header_; }  // above the banner: summaries
  QString bannerPrefix_ = "Invalid: ";

 private:
  void revalidate();
  void setValue(const ConfigField& f, const nlohmann::json& v);
  nlohmann::json valueOf(const ConfigField& f) const;

  const ConfigSchema& schema_;
  QMap<QString, QWidget*> editors_, rows_;
  QMap<QString, QLabel*> messages_, labels_;
  QLabel* banner_;
  QVBoxLayout* header_;
  QString error_;
  bool loading_ = false;
};

}  // namespace moelab::ui
