#pragma once
#include "forms/SchemaForm.h"

namespace moelab::ui {

// The network simulator's scenario form, generated from sim::Scenario::schema(): cluster preset
// and overrides, model shape, placement, traffic, steps, comparisons. Validated by
// sim::Scenario::fromJson, whose messages appear under the field they name.
class ScenarioForm : public SchemaForm {
  Q_OBJECT
 public:
  explicit ScenarioForm(QWidget* parent = nullptr);

 protected:
  void check(const nlohmann::json& doc) override;
};

}  // namespace moelab::ui
