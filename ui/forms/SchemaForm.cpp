#include "forms/SchemaForm.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>
#include <QVBoxLayout>
#include <limits>

#include "config/ConfigSchema.h"
#include "util/Errors.h"
#include "widgets/ScrollPanel.h"

namespace moelab::ui {
namespace {

QString sectionTitle(const std::string& s) {
  QString t = QString::fromStdString(s);
  return t.left(1).toUpper() + t.mid(1);
}

QString fieldLabel(const ConfigField& f) {
  return QString::fromStdString(f.key()).replace('_', ' ');
}

}  // namespace

SchemaForm::SchemaForm(const ConfigSchema& schema, QWidget* parent) : QWidget(parent), schema_(schema) {
  auto* content = new QWidget;
  auto* column = new QVBoxLayout(content);
  banner_ = new QLabel;
  banner_->setWordWrap(true);
  banner_->setStyleSheet("color: #c01c28;");
  for (const std::string& section : schema.sections()) {
    auto* box = new QGroupBox(sectionTitle(section));
    auto* form = new QFormLayout(box);
    form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
    for (const ConfigField& f : schema.fields()) {
      if (f.section() != section) continue;
      const QString path = QString::fromStdString(f.path);
      const QString tip = QString("<b>%1</b> (%2)<br>%3")
                              .arg(path, QString::fromStdString(f.expectation()).toHtmlEscaped(),
                                   QString::fromStdString(f.help).toHtmlEscaped());
      QWidget* editor = nullptr;
      if (f.type == FieldType::Integer) {
        auto* spin = new QSpinBox;
        spin->setRange(f.min ? int(std::max(*f.min, double(std::numeric_limits<int>::min())))
                             : std::numeric_limits<int>::min(),
                       f.max ? int(std::min(*f.max, double(std::numeric_limits<int>::max())))
                             : std::numeric_limits<int>::max());
        spin->setAccelerated(true);
        connect(spin, &QSpinBox::valueChanged, this, &SchemaForm::revalidate);
        editor = spin;
      } else if (f.type == FieldType::Boolean) {
        auto* check = new QCheckBox;
        connect(check, &QCheckBox::toggled, this, &SchemaForm::revalidate);
        editor = check;
      } else if (f.type == FieldType::String && !f.choices.empty()) {
        auto* combo = new QComboBox;
        for (const auto& c : f.choices) combo->addItem(QString::fromStdString(c));
        connect(combo, &QComboBox::currentIndexChanged, this, &SchemaForm::revalidate);
        editor = combo;
      } else {  // numbers (typed as written: 3e-4), free text, arrays (JSON)
        auto* line = new QLineEdit;
        if (f.type == FieldType::Array) line->setPlaceholderText("JSON array");
        if (f.type == FieldType::Number) line->setMaximumWidth(200);
        connect(line, &QLineEdit::textChanged, this, &SchemaForm::revalidate);
        editor = line;
      }
      editor->setToolTip(tip);
      editor->setObjectName(path);
      auto* message = new QLabel;
      message->setStyleSheet("color: #c01c28;");
      message->setWordWrap(true);
      message->hide();
      auto* row = new QWidget;
      auto* rowLayout = new QVBoxLayout(row);
      rowLayout->setContentsMargins(0, 0, 0, 0);
      rowLayout->setSpacing(2);
      rowLayout->addWidget(editor);
      rowLayout->addWidget(message);
      auto* label = new QLabel(fieldLabel(f));
      label->setToolTip(tip);
      form->addRow(label, row);
      editors_[path] = editor;
      rows_[path] = row;
      labels_[path] = label;
      messages_[path] = message;
    }
    column->addWidget(box);
  }
  column->addStretch(1);
  auto* scroll = scrollPanel(content);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  header_ = new QVBoxLayout;
  layout->addLayout(header_);
  layout->addWidget(banner_);
  layout->addWidget(scroll, 1);
}

void SchemaForm::initialise() {
  setConfig(nlohmann::json::object());
}

void SchemaForm::setValue(const ConfigField& f, const nlohmann::json& v) {
  QWidget* w = editors_.value(QString::fromStdString(f.path));
  if (auto* spin = qobject_cast<QSpinBox*>(w))
    spin->setValue(int(v.get<int64_t>()));
  else if (auto* check = qobject_cast<QCheckBox*>(w))
    check->setChecked(v.get<bool>());
  else if (auto* combo = qobject_cast<QComboBox*>(w))
    combo->setCurrentText(QString::fromStdString(v.get<std::string>()));
  else if (auto* line = qobject_cast<QLineEdit*>(w))
    line->setText(v.is_string() ? QString::fromStdString(v.get<std::string>())
                                : QString::fromStdString(v.dump()));
}

nlohmann::json SchemaForm::valueOf(const ConfigField& f) const {
  QWidget* w = editors_.value(QString::fromStdString(f.path));
  if (auto* spin = qobject_cast<QSpinBox*>(w)) return int64_t(spin->value());
  if (auto* check = qobject_cast<QCheckBox*>(w)) return check->isChecked();
  if (auto* combo = qobject_cast<QComboBox*>(w)) return combo->currentText().toStdString();
  const QString text = static_cast<QLineEdit*>(w)->text().trimmed();
  if (f.type == FieldType::String) return text.toStdString();
  // Numbers and arrays: parsed as JSON so the engine's own check reports what is wrong with them.
  auto parsed = nlohmann::json::parse(text.toStdString(), nullptr, false);
  return parsed.is_discarded() ? nlohmann::json(text.toStdString()) : parsed;
}

void SchemaForm::setConfig(const nlohmann::json& doc) {
  const ConfigSchema& schema = schema_;
  nlohmann::json full = schema.defaults();
  for (auto it = doc.begin(); it != doc.end(); ++it)
    if (it.value().is_object())
      for (auto kv = it.value().begin(); kv != it.value().end(); ++kv) {
        if (!schema.find(it.key() + "." + kv.key()))
          throw ConfigError(it.key() + "." + kv.key() + ": not a config key of this version");
        full[it.key()][kv.key()] = kv.value();
      }
  loading_ = true;
  for (const ConfigField& f : schema.fields()) setValue(f, full[f.section()][f.key()]);
  loading_ = false;
  revalidate();
}

nlohmann::json SchemaForm::config() const {
  nlohmann::json doc = nlohmann::json::object();
  for (const ConfigField& f : schema_.fields()) doc[f.section()][f.key()] = valueOf(f);
  return doc;
}

void SchemaForm::setFieldVisible(const QString& path, bool visible) {
  if (auto* row = rows_.value(path)) row->setVisible(visible);
  if (auto* label = labels_.value(path)) label->setVisible(visible);
}

void SchemaForm::revalidate() {
  if (loading_) return;
  const nlohmann::json doc = config();
  for (auto* m : messages_) m->hide();
  QString error;
  try {
    check(doc);
  } catch (const std::exception& e) {
    error = QString::fromUtf8(e.what());
    const QString path = error.section(':', 0, 0);
    if (QLabel* m = messages_.value(path)) {
      m->setText(error.section(':', 1).trimmed());
      m->show();
    }
  }
  banner_->setText(error.isEmpty() ? QString() : bannerPrefix_ + error);
  banner_->setVisible(!error.isEmpty());
  const bool changed = (error != error_);
  error_ = error;
  if (changed) emit validityChanged(error_.isEmpty());
  emit configChanged();
}

}  // namespace moelab::ui
