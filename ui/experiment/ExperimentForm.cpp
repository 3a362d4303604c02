#include "experiment/ExperimentForm.h"

#include <QLabel>
#include <QVBoxLayout>

#include "config/ConfigSchema.h"
#include "config/ExperimentConfig.h"
#include "model/ModelSize.h"

namespace moelab::ui {

ExperimentForm::ExperimentForm(QWidget* parent) : SchemaForm(ConfigSchema::experiment(), parent) {
  bannerPrefix_ = "Cannot start: ";
  size_ = new QLabel;
  size_->setWordWrap(true);
  size_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  header()->addWidget(size_);
  initialise();
}

void ExperimentForm::updateVisibility(const QString& architecture) {
  for (const ConfigField& f : ConfigSchema::experiment().fields()) {
    const bool applies = f.appliesTo == "all" || QString::fromStdString(f.appliesTo).contains(architecture);
    setFieldVisible(QString::fromStdString(f.path), applies);
  }
}

void ExperimentForm::check(const nlohmann::json& doc) {
  updateVisibility(QString::fromStdString(doc["model"]["architecture"].get<std::string>()));
  ExperimentConfig cfg = ExperimentConfig::fromJson(doc);
  // Closed form: the 1.7B preset is counted without allocating its weights.
  ModelConfig m = cfg.model;
  QString vocabNote;
  if (m.vocabSize == 0 && cfg.data.tokenizer == "gpt2") m.vocabSize = 50257;
  if (m.vocabSize == 0) vocabNote = " (embeddings not counted: the vocabulary comes from the data)";
  const auto p = countParameters(m);
  const auto mem = estimateTrainingMemory(m, cfg.train.batchSize);
  const bool sparse = m.architecture == "sparse_moe";
  size_->setText(
      QString("<b>%1 M parameters</b>: experts %2 M, %3 %4 M, other %5 M%6<br>training memory about %7")
          .arg(double(p.total) / 1e6, 0, 'f', 2)
          .arg(double(p.experts) / 1e6, 0, 'f', 2)
          .arg(sparse ? "router" : "GNN coupling")
          .arg(double(sparse ? m.numExperts * m.embedDim * m.numLayers / m.moeEvery : p.gnnCoupling) / 1e6, 0,
               'f', 2)
          .arg(double(p.other) / 1e6, 0, 'f', 2)
          .arg(vocabNote)
          .arg(QString::fromStdString(mem.describe())));
}

QString ExperimentForm::sizeSummary() const {
  return size_->text();
}

}  // namespace moelab::ui
