#include "sim/ScenarioForm.h"

#include "sim/Scenario.h"

namespace moelab::ui {

ScenarioForm::ScenarioForm(QWidget* parent) : SchemaForm(sim::Scenario::schema(), parent) {
  bannerPrefix_ = "Cannot simulate: ";
  initialise();
}

void ScenarioForm::check(const nlohmann::json& doc) {
  sim::Scenario::fromJson(doc);
}

}  // namespace moelab::ui
