#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace moelab {

// Fine-tuning from another run's weights (--init-from): the new config may change how the model is
// trained (losses and their coefficients, capacity, jitter, dropout, balancing) but not what the
// model is. The model keys that may differ from the parent's:
const std::vector<std::string>& initFromChangeableModelKeys();
// Throws UserError listing each differing key that is not changeable (and a differing
// data.tokenizer), parent value vs new value. Both are full experiment configs (defaults filled).
void checkInitFromCompatible(const nlohmann::json& parentConfig, const nlohmann::json& config);

}  // namespace moelab
