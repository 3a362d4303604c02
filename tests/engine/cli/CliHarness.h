#pragma once
#include <QtTest/QtTest>

#include "TestSuite.h"

// Runs the real moelab-cli binary in a temporary folder with the test data: what the CLI suites
// share (exit code, stdout, stderr; config files written into the folder).
class CliHarness : public QObject {
 protected:
  QTemporaryDir dir_;
  struct Result {
    int code;
    QString out, err;
  };
  void startCli(QProcess& p, const QStringList& args) {
    p.setWorkingDirectory(dir_.path());
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("MOELAB_DATA_DIR", moelab::test::dataDir());
    p.setProcessEnvironment(env);
    p.start(MOELAB_CLI, args);
  }
  Result cli(const QStringList& args, const QByteArray& stdinData = {}) {
    QProcess p;
    startCli(p, args);
    p.write(stdinData);
    p.closeWriteChannel();
    p.waitForFinished(600000);
    return {p.exitCode(), p.readAllStandardOutput(), p.readAllStandardError()};
  }
  QString writeConfig(const QString& name, const QByteArray& json) {
    QFile f(dir_.path() + "/" + name);
    f.open(QIODevice::WriteOnly);
    f.write(json);
    return f.fileName();
  }
  QByteArray fileBytes(const QString& name) {
    QFile f(dir_.path() + "/" + name);
    f.open(QIODevice::ReadOnly);
    return f.readAll();
  }
};
