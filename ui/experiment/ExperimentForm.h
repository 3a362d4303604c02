#pragma once
#include "forms/SchemaForm.h"

class QLabel;

namespace moelab::ui {

// The experiment schema's form (ConfigSchema::experiment()). Fields that do not apply to the
// chosen architecture are hidden; every edit validates with ExperimentConfig (cross-field rules
// included) and updates the parameter count and training-memory estimate (closed form; nothing
// is allocated).
class ExperimentForm : public SchemaForm {
  Q_OBJECT
 public:
  explicit ExperimentForm(QWidget* parent = nullptr);
  QString sizeSummary() const;

 protected:
  void check(const nlohmann::json& doc) override;

 private:
  void updateVisibility(const QString& architecture);
  QLabel* size_;
};

}  // namespace moelab::ui
