#pragma once
#include <QScrollArea>

namespace moelab::ui {

// `content` in a frameless scroll area that resizes it to the viewport (panels of charts, forms).
inline QScrollArea* scrollPanel(QWidget* content) {
  auto* scroll = new QScrollArea;
  scroll->setWidget(content);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  return scroll;
}

}  // namespace moelab::ui
