#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QtTest/QtTest>

#include "TestSuite.h"
#include "config/ConfigSchema.h"
#include "config/ExperimentConfig.h"
#include "experiment/ExperimentForm.h"
#include "experiment/ExperimentPane.h"

using namespace moelab;
using namespace moelab::ui;

namespace {
nlohmann::json preset(const char* name) {
  QFile f(QString(MOELAB_SOURCE_DIR) + "/experiments/" + name);
  f.open(QIODevice::ReadOnly);
  return nlohmann::json::parse(f.readAll().toStdString());
}
}  // namespace

// The schema-driven experiment editor, driven through its widgets.
class ExperimentFormTest : public QObject {
  Q_OBJECT
 private slots:
  void everySchemaFieldHasAnEditor() {
    ExperimentForm form;
    for (const auto& f : ConfigSchema::experiment().fields())
      QVERIFY2(form.editorFor(QString::fromStdString(f.path)), f.path.c_str());
  }
  void configRoundTripsThroughTheForm() {
    ExperimentForm form;
    const auto doc = preset("quickstart-sparse.json");
    form.setConfig(doc);
    QVERIFY2(form.isValid(), qPrintable(form.error()));
    QCOMPARE(ExperimentConfig::fromJson(form.config()).json, ExperimentConfig::fromJson(doc).json);
  }
  void editsBecomeConfigValues() {
    ExperimentForm form;
    form.setConfig(preset("quickstart.json"));
    qobject_cast<QSpinBox*>(form.editorFor("model.num_layers"))->setValue(3);
    auto* lr = qobject_cast<QLineEdit*>(form.editorFor("train.learning_rate"));
    lr->selectAll();
    QTest::keyClicks(lr, "3e-4");
    qobject_cast<QComboBox*>(form.editorFor("model.architecture"))->setCurrentText("dense");
    auto cfg = ExperimentConfig::fromJson(form.config());
    QCOMPARE(cfg.model.numLayers, int64_t(3));
    QCOMPARE(cfg.train.learningRate, 3e-4);
    QCOMPARE(cfg.model.architecture, std::string("dense"));
    // Fields of other architectures are hidden.
    QVERIFY(form.editorFor("model.top_k")->parentWidget()->isHidden());
    QVERIFY(!form.editorFor("model.embed_dim")->parentWidget()->isHidden());
  }
  void invalidValueShowsTheEnginesMessageAndDisablesStart() {
    ExperimentPane pane;
    pane.setConfig(preset("quickstart.json"), "quickstart");
    QVERIFY(pane.startButton()->isEnabled());
    qobject_cast<QSpinBox*>(pane.form()->editorFor("model.num_heads"))->setValue(3);  // 128 % 3 != 0
    QVERIFY(!pane.startButton()->isEnabled());
    QLabel* msg = pane.form()->messageFor("model.num_heads");
    QVERIFY(!msg->isHidden());
    QVERIFY2(msg->text().contains("expected a divisor of model.embed_dim"), qPrintable(msg->text()));
    auto* lr = qobject_cast<QLineEdit*>(pane.form()->editorFor("train.learning_rate"));
    qobject_cast<QSpinBox*>(pane.form()->editorFor("model.num_heads"))->setValue(4);
    QVERIFY(pane.startButton()->isEnabled());
    lr->setText("fast");
    QVERIFY(!pane.startButton()->isEnabled());
    QVERIFY(!pane.form()->messageFor("train.learning_rate")->isHidden());
  }
  void parameterCountUpdatesWithoutAllocating() {
    ExperimentForm form;
    form.setConfig(preset("seed-default.json"));
    QVERIFY2(form.sizeSummary().contains("39.77 M parameters"), qPrintable(form.sizeSummary()));
    // The 1.7B preset: counted in closed form (building it would take 7 GB).
    form.setConfig(preset("seed-moe-transformer.json"));
    QVERIFY2(form.sizeSummary().contains("parameters"), qPrintable(form.sizeSummary()));
    QVERIFY(form.isValid());
  }
  void saveAndLoadRoundTrip() {
    ExperimentPane pane;
    pane.setConfig(preset("dense-baseline.json"), "dense-baseline");
    QTemporaryDir d;
    QVERIFY(pane.saveFile(d.path() + "/x.json"));
    ExperimentPane other;
    other.loadFile(d.path() + "/x.json");
    QCOMPARE(other.form()->config(), pane.form()->config());
  }
};

MOELAB_TEST_SUITE(ExperimentFormTest)
#include "ExperimentFormTest.moc"
