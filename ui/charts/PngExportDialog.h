#pragma once
#include <QDialog>
#include <QSize>

class QComboBox;
class QLineEdit;
class QSpinBox;

namespace moelab::ui {

// Asks where to save a chart as PNG and at what size (presets or custom width × height).
class PngExportDialog : public QDialog {
  Q_OBJECT
 public:
  PngExportDialog(const QString& suggestedPath, QWidget* parent = nullptr);
  QString path() const;
  QSize size() const;
  QComboBox* presets() const { return presets_; }

 private:
  QComboBox* presets_;
  QSpinBox *width_, *height_;
  QLineEdit* path_;
};

}  // namespace moelab::ui
