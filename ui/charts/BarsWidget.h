#pragma once
#include <QColor>
#include <QString>
#include <QWidget>
#include <functional>
#include <vector>

namespace moelab::ui {

// Bars for one value per item (tokens per expert, finish time per GPU), painted directly so a
// thousand bars stay cheap: a dashed reference level (the uniform share, the mean), an optional
// highlighted bar (the slowest GPU), a caption line under the title (CV, Gini, max/mean), the
// y range on the left and hover text per bar.
class BarsWidget : public QWidget {
  Q_OBJECT
 public:
  using HoverFormat = std::function<QString(int index, double value)>;
  explicit BarsWidget(QWidget* parent = nullptr);

  void setValues(const std::vector<double>& values);
  void setReference(double level, const QString& label);                     // NaN = none
  void setHighlight(int index, const QColor& colour = QColor(192, 28, 40));  // -1 = none
  void setTitle(const QString& title);
  void setCaption(const QString& caption);
  void setItemName(const QString& name) { itemName_ = name; }
  void setHoverFormat(HoverFormat f) { hover_ = std::move(f); }

  const std::vector<double>& values() const { return values_; }
  double reference() const { return reference_; }
  int highlight() const { return highlight_; }
  QString caption() const { return caption_; }
  QString title() const { return title_; }
  QRect barRect(int index) const;
  QString hoverTextAt(const QPoint& pos) const;
  QSize sizeHint() const override { return {320, 180}; }
  QSize minimumSizeHint() const override { return {160, 110}; }

 protected:
  void paintEvent(QPaintEvent*) override;
  void mouseMoveEvent(QMouseEvent* e) override;

 private:
  QRect plotRect() const;
  double top() const;
  std::vector<double> values_;
  double reference_;
  QString referenceLabel_, title_, caption_, itemName_ = "item";
  int highlight_ = -1;
  QColor highlightColour_;
  HoverFormat hover_;
};

}  // namespace moelab::ui
