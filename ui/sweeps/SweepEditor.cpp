#include "sweeps/SweepEditor.h"

#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

#include "config/ConfigSchema.h"
#include "experiment/ExperimentPane.h"
#include "sweep/SweepSpec.h"
#include "util/Errors.h"

namespace moelab::ui {
namespace {

enum Column { kKey, kKind, kValues, kExtra };
const QStringList kKinds = {"values", "range", "uniform", "log_uniform"};

// One cell value typed by its schema field ("256" -> 256 for an integer field).
nlohmann::json parseCell(const QString& text, const ConfigField* f, int row) {
  const QString t = text.trimmed();
  bool ok = true;
  nlohmann::json v;
  if (!f || f->type == FieldType::String) return t.toStdString();
  if (f->type == FieldType::Boolean) {
    if (t != "true" && t != "false") ok = false;
    v = t == "true";
  } else if (f->type == FieldType::Integer) {
    v = t.toLongLong(&ok);
  } else {
    v = t.toDouble(&ok);
  }
  if (!ok)
    throw ConfigError("parameter row " + std::to_string(row + 1) + " (" + f->path + "): \"" +
                      t.toStdString() + "\" is not " + f->expectation());
  return v;
}

QString cellText(const nlohmann::json& v) {
  if (v.is_string()) return QString::fromStdString(v.get<std::string>());
  if (v.is_number_float()) return QString::number(v.get<double>(), 'g', 8);
  return QString::fromStdString(v.dump());
}

}  // namespace

SweepEditor::SweepEditor(QWidget* parent) : QWidget(parent) {
  name_ = new QLineEdit("sweep");
  presets_ = new QComboBox;
  presets_->addItem("Load a preset sweep...");
  for (const QString& folder : ExperimentPane::presetFolders())
    for (const QFileInfo& f : QDir(folder + "/sweeps").entryInfoList({"*.json"}, QDir::Files, QDir::Name))
      presets_->addItem(f.completeBaseName(), f.absoluteFilePath());
  base_ = new QComboBox;
  for (const QString& folder : ExperimentPane::presetFolders())
    for (const QFileInfo& f : QDir(folder).entryInfoList({"*.json"}, QDir::Files, QDir::Name))
      base_->addItem(f.completeBaseName(), f.absoluteFilePath());
  auto* browse = new QPushButton("Base file...");
  method_ = new QComboBox;
  method_->addItems({"grid", "random"});
  samples_ = new QSpinBox;
  samples_->setRange(1, 100000);
  samples_->setValue(8);
  seed_ = new QSpinBox;
  seed_->setRange(0, 1 << 30);
  metric_ = new QComboBox;
  metric_->setEditable(true);
  metric_->addItems({"val/loss", "val/perplexity", "train/loss"});
  goal_ = new QComboBox;
  goal_->addItems({"minimize", "maximize"});
  concurrency_ = new QSpinBox;
  concurrency_->setRange(1, 64);
  stopping_ = new QComboBox;
  stopping_->addItems({"none", "median", "asha"});
  grace_ = new QSpinBox;
  grace_->setRange(0, 1 << 30);
  grace_->setValue(50);
  minRuns_ = new QSpinBox;
  minRuns_->setRange(1, 1000);
  minRuns_->setValue(3);
  reduction_ = new QSpinBox;
  reduction_->setRange(2, 16);
  reduction_->setValue(3);

  auto* form = new QFormLayout;
  form->addRow("Name", name_);
  auto* baseRow = new QHBoxLayout;
  baseRow->addWidget(base_, 1);
  baseRow->addWidget(browse);
  form->addRow("Base experiment", baseRow);
  auto* methodRow = new QHBoxLayout;
  methodRow->addWidget(method_);
  methodRow->addWidget(new QLabel("samples"));
  methodRow->addWidget(samples_);
  methodRow->addWidget(new QLabel("seed"));
  methodRow->addWidget(seed_);
  methodRow->addStretch();
  form->addRow("Method", methodRow);
  auto* metricRow = new QHBoxLayout;
  metricRow->addWidget(metric_, 1);
  metricRow->addWidget(goal_);
  form->addRow("Metric", metricRow);
  form->addRow("Runs at once", concurrency_);
  auto* stopRow = new QHBoxLayout;
  stopRow->addWidget(stopping_);
  stopRow->addWidget(new QLabel("grace steps"));
  stopRow->addWidget(grace_);
  stopRow->addWidget(new QLabel("min runs"));
  stopRow->addWidget(minRuns_);
  stopRow->addWidget(new QLabel("reduction"));
  stopRow->addWidget(reduction_);
  stopRow->addStretch();
  form->addRow("Early stopping", stopRow);

  params_ = new QTableWidget(0, 4);
  params_->setHorizontalHeaderLabels(
      {"Config field", "Kind", "Values (a, b, ...) or bounds (low, high)", "Step (range) / count (grid)"});
  params_->horizontalHeader()->setSectionResizeMode(kValues, QHeaderView::Stretch);
  params_->horizontalHeader()->setSectionResizeMode(kKey, QHeaderView::ResizeToContents);
  params_->verticalHeader()->hide();
  params_->setMinimumHeight(130);
  auto* add = new QPushButton("Add parameter");
  auto* remove = new QPushButton("Remove");
  auto* save = new QPushButton("Save spec...");
  auto* previewButton = new QPushButton("Preview");
  start_ = new QPushButton("Start sweep");
  start_->setDefault(true);
  auto* buttons = new QHBoxLayout;
  for (auto* b : {add, remove}) buttons->addWidget(b);
  buttons->addStretch();
  for (auto* b : {save, previewButton, start_}) buttons->addWidget(b);

  message_ = new QLabel;
  message_->setWordWrap(true);
  message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  preview_ = new QTableWidget(0, 2);
  preview_->setHorizontalHeaderLabels({"Point", "Values / why it is invalid"});
  preview_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
  preview_->verticalHeader()->hide();
  preview_->setEditTriggers(QAbstractItemView::NoEditTriggers);

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(presets_);
  layout->addLayout(form);
  layout->addWidget(new QLabel("Swept parameters"));
  layout->addWidget(params_, 1);
  layout->addLayout(buttons);
  layout->addWidget(message_);
  layout->addWidget(preview_, 2);

  connect(presets_, qOverload<int>(&QComboBox::activated), this, [this](int i) {
    if (i > 0) loadSpecFile(presets_->itemData(i).toString());
    presets_->setCurrentIndex(0);
  });
  connect(base_, qOverload<int>(&QComboBox::activated), this,
          [this](int i) { loadBaseFile(base_->itemData(i).toString()); });
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, "Base experiment config", {}, "JSON (*.json)");
    if (!path.isEmpty()) loadBaseFile(path);
  });
  connect(method_, &QComboBox::currentTextChanged, this, [this] { updateEnabled(); });
  connect(stopping_, &QComboBox::currentTextChanged, this, [this] { updateEnabled(); });
  connect(add, &QPushButton::clicked, this,
          [this] { addParameter("train.learning_rate", "values", "1e-3, 3e-4"); });
  connect(remove, &QPushButton::clicked, this, [this] {
    if (params_->currentRow() >= 0) params_->removeRow(params_->currentRow());
  });
  connect(save, &QPushButton::clicked, this, [this] {
    nlohmann::json s;
    try {
      s = spec();
    } catch (const std::exception& e) {
      showError(e.what());
      return;
    }
    const QString path =
        QFileDialog::getSaveFileName(this, "Save sweep spec", name_->text() + ".json", "JSON (*.json)");
    QFile f(path);
    if (path.isEmpty() || !f.open(QIODevice::WriteOnly)) return;
    f.write(QByteArray::fromStdString(s.dump(2) + "\n"));
  });
  connect(previewButton, &QPushButton::clicked, this, &SweepEditor::preview);
  connect(start_, &QPushButton::clicked, this, [this] {
    if (!preview()) return;
    emit startRequested(spec());
  });
  if (base_->count() > 0) {
    const int quick = base_->findText("cpu-sweep-baseline");
    base_->setCurrentIndex(std::max(0, quick));
    loadBaseFile(base_->currentData().toString());
  }
  addParameter("train.learning_rate", "values", "0.003, 0.001, 0.0005");
  updateEnabled();
}

void SweepEditor::showError(const QString& text) {
  message_->setText(QString("<span style='color:#b00020'>%1</span>").arg(text.toHtmlEscaped()));
}

void SweepEditor::updateEnabled() {
  const bool random = method_->currentText() == "random";
  samples_->setEnabled(random);
  seed_->setEnabled(random);
  const QString s = stopping_->currentText();
  grace_->setEnabled(s != "none");
  minRuns_->setEnabled(s == "median");
  reduction_->setEnabled(s == "asha");
}

void SweepEditor::addParameter(const QString& key, const QString& kind, const QString& values,
                               const QString& extra) {
  const int row = params_->rowCount();
  params_->insertRow(row);
  auto* keys = new QComboBox;
  keys->setEditable(true);
  for (const auto& f : ConfigSchema::experiment().fields()) keys->addItem(QString::fromStdString(f.path));
  keys->setCurrentText(key);
  auto* kinds = new QComboBox;
  kinds->addItems(kKinds);
  kinds->setCurrentText(kind);
  params_->setCellWidget(row, kKey, keys);
  params_->setCellWidget(row, kKind, kinds);
  params_->setItem(row, kValues, new QTableWidgetItem(values));
  params_->setItem(row, kExtra, new QTableWidgetItem(extra));
}

void SweepEditor::loadBaseFile(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) {
    message_->setText("Cannot read " + path);
    return;
  }
  auto doc = nlohmann::json::parse(f.readAll().toStdString(), nullptr, false);
  if (doc.is_discarded()) {
    message_->setText(path + " is not valid JSON");
    return;
  }
  setBase(doc, QFileInfo(path).completeBaseName());
}

void SweepEditor::setBase(const nlohmann::json& config, const QString& name) {
  baseDoc_ = config;
  baseName_ = name;
  int i = base_->findText(name);
  if (i < 0) {
    base_->addItem(name, QString());
    i = base_->count() - 1;
  }
  base_->setCurrentIndex(i);
}

nlohmann::json SweepEditor::spec() const {
  nlohmann::json s = {{"name", name_->text().toStdString()},
                      {"base", baseDoc_},
                      {"base_name", baseName_.toStdString()},
                      {"method", method_->currentText().toStdString()},
                      {"metric", metric_->currentText().trimmed().toStdString()},
                      {"goal", goal_->currentText().toStdString()},
                      {"max_concurrent", concurrency_->value()}};
  if (method_->currentText() == "random") {
    s["samples"] = samples_->value();
    s["seed"] = seed_->value();
  }
  const QString stop = stopping_->currentText();
  s["early_stopping"] = {{"method", stop.toStdString()}};
  if (stop != "none") s["early_stopping"]["grace_steps"] = grace_->value();
  if (stop == "median") s["early_stopping"]["min_runs"] = minRuns_->value();
  if (stop == "asha") s["early_stopping"]["reduction_factor"] = double(reduction_->value());
  s["parameters"] = nlohmann::json::array();
  for (int r = 0; r < params_->rowCount(); ++r) {
    const std::string key =
        static_cast<QComboBox*>(params_->cellWidget(r, kKey))->currentText().trimmed().toStdString();
    const QString kind = static_cast<QComboBox*>(params_->cellWidget(r, kKind))->currentText();
    const ConfigField* f = ConfigSchema::experiment().find(key);
    const QString values = params_->item(r, kValues) ? params_->item(r, kValues)->text() : QString();
    const QString extra = params_->item(r, kExtra) ? params_->item(r, kExtra)->text().trimmed() : QString();
    nlohmann::json p = {{"key", key}};
    if (kind == "values") {
      nlohmann::json list = nlohmann::json::array();
      for (const QString& v : values.split(',', Qt::SkipEmptyParts)) list.push_back(parseCell(v, f, r));
      p["values"] = list;
    } else {
      // Bounds are real numbers whatever the field (the engine rounds integer fields).
      nlohmann::json bounds = nlohmann::json::array();
      for (const QString& v : values.split(',', Qt::SkipEmptyParts)) {
        bool ok = false;
        bounds.push_back(v.trimmed().toDouble(&ok));
        if (!ok) throw ConfigError("parameter row " + std::to_string(r + 1) + ": bounds must be numbers");
      }
      p[kind.toStdString()] = bounds;
      if (!extra.isEmpty()) {
        bool ok = false;
        const double x = extra.toDouble(&ok);
        if (!ok)
          throw ConfigError("parameter row " + std::to_string(r + 1) + ": step/count must be a number");
        if (kind == "range")
          p["step"] = x;
        else
          p["count"] = int64_t(x);
      }
    }
    s["parameters"].push_back(p);
  }
  return s;
}

void SweepEditor::setSpec(const nlohmann::json& s) {
  name_->setText(QString::fromStdString(s.value("name", std::string("sweep"))));
  setBase(s.value("base", nlohmann::json::object()),
          QString::fromStdString(s.value("base_name", std::string("inline"))));
  method_->setCurrentText(QString::fromStdString(s.value("method", std::string("grid"))));
  samples_->setValue(int(s.value("samples", int64_t(8))));
  seed_->setValue(int(s.value("seed", int64_t(0))));
  metric_->setCurrentText(QString::fromStdString(s.value("metric", std::string("val/loss"))));
  goal_->setCurrentText(QString::fromStdString(s.value("goal", std::string("minimize"))));
  concurrency_->setValue(int(s.value("max_concurrent", int64_t(1))));
  const auto es = s.value("early_stopping", nlohmann::json{{"method", "none"}});
  stopping_->setCurrentText(QString::fromStdString(es.value("method", std::string("none"))));
  grace_->setValue(int(es.value("grace_steps", int64_t(50))));
  minRuns_->setValue(int(es.value("min_runs", int64_t(3))));
  reduction_->setValue(int(es.value("reduction_factor", 3.0)));
  params_->setRowCount(0);
  for (const auto& p : s.value("parameters", nlohmann::json::array())) {
    const QString key = QString::fromStdString(p.value("key", std::string()));
    for (const QString& kind : kKinds) {
      if (!p.contains(kind.toStdString())) continue;
      QStringList cells;
      for (const auto& v : p[kind.toStdString()]) cells << cellText(v);
      QString extra;
      if (p.contains("step")) extra = cellText(p["step"]);
      if (p.contains("count")) extra = cellText(p["count"]);
      addParameter(key, kind, cells.join(", "), extra);
    }
  }
  updateEnabled();
  preview_->setRowCount(0);
  message_->clear();
}

bool SweepEditor::loadSpecFile(const QString& path) {
  try {
    setSpec(SweepSpec::load(path.toStdString()).toJson());
    return preview();
  } catch (const std::exception& e) {
    showError(e.what());
    return false;
  }
}

bool SweepEditor::preview() {
  preview_->setRowCount(0);
  invalid_ = 0;
  std::vector<SweepPoint> points;
  SweepSpec parsed;
  try {
    parsed = SweepSpec::fromJson(spec());
    points = expandSweep(parsed);
  } catch (const std::exception& e) {
    showError(e.what());
    return false;
  }
  preview_->setRowCount(int(points.size()));
  for (const auto& p : points) {
    const int r = int(p.index);
    preview_->setItem(r, 0, new QTableWidgetItem(QString("#%1").arg(p.index)));
    auto* item =
        new QTableWidgetItem(QString::fromStdString(p.label(false)) +
                             (p.valid() ? QString() : "  —  invalid: " + QString::fromStdString(p.error)));
    if (!p.valid()) {
      item->setForeground(QColor("#b00020"));
      ++invalid_;
    }
    preview_->setItem(r, 1, item);
  }
  const int valid = int(points.size()) - invalid_;
  message_->setText(
      QString("%1 points (%2), %3 to run%4, %5 at a time.")
          .arg(points.size())
          .arg(QString::fromStdString(parsed.method))
          .arg(valid)
          .arg(invalid_ ? QString(", %1 invalid (listed in red, recorded with their reason)").arg(invalid_)
                        : QString())
          .arg(parsed.maxConcurrent));
  if (valid == 0) {
    message_->setText("<span style='color:#b00020'>Every point is invalid: nothing to run.</span>");
    return false;
  }
  return true;
}

int SweepEditor::previewRows() const {
  return preview_->rowCount();
}

}  // namespace moelab::ui
