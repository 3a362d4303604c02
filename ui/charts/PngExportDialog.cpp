#include "charts/PngExportDialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>

namespace moelab::ui {

PngExportDialog::PngExportDialog(const QString& suggestedPath, QWidget* parent) : QDialog(parent) {
  setWindowTitle("Save chart as PNG");
  presets_ = new QComboBox;
  presets_->addItem("800 × 500 (slides, small)", QSize(800, 500));
  presets_->addItem("1200 × 800 (default)", QSize(1200, 800));
  presets_->addItem("1920 × 1080 (full HD)", QSize(1920, 1080));
  presets_->addItem("2400 × 1600 (print)", QSize(2400, 1600));
  presets_->addItem("Custom", QSize());
  presets_->setCurrentIndex(1);
  width_ = new QSpinBox;
  height_ = new QSpinBox;
  for (auto* s : {width_, height_}) {
    s->setRange(200, 8000);
    s->setSuffix(" px");
  }
  width_->setValue(1200);
  height_->setValue(800);
  path_ = new QLineEdit(suggestedPath);
  auto* browse = new QPushButton("Browse...");
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString p = QFileDialog::getSaveFileName(this, "Save chart", path_->text(), "PNG image (*.png)");
    if (!p.isEmpty()) path_->setText(p);
  });
  connect(presets_, &QComboBox::currentIndexChanged, this, [this] {
    const QSize s = presets_->currentData().toSize();
    if (s.isValid()) width_->setValue(s.width()), height_->setValue(s.height());
  });
  auto customise = [this] { presets_->setCurrentIndex(presets_->count() - 1); };
  connect(width_, &QSpinBox::editingFinished, this, customise);
  connect(height_, &QSpinBox::editingFinished, this, customise);

  auto* sizeRow = new QHBoxLayout;
  sizeRow->addWidget(width_);
  sizeRow->addWidget(height_);
  auto* pathRow = new QHBoxLayout;
  pathRow->addWidget(path_, 1);
  pathRow->addWidget(browse);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* form = new QFormLayout(this);
  form->addRow("Size", presets_);
  form->addRow("Width × height", sizeRow);
  form->addRow("File", pathRow);
  form->addRow(buttons);
}

QString PngExportDialog::path() const {
  QString p = path_->text().trimmed();
  if (!p.isEmpty() && !p.endsWith(".png", Qt::CaseInsensitive)) p += ".png";
  return p;
}

QSize PngExportDialog::size() const {
  return {width_->value(), height_->value()};
}

}  // namespace moelab::ui
