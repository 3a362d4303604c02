#include "run/RankedRunProcess.h"

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <limits>

namespace moelab::ui {

RankedRunProcess::RankedRunProcess(QString dbPath, nlohmann::json config, QString experiment, QString name,
                                   int ranks, int threads, QString dataDir, QObject* parent)
    : QObject(parent),
      dbPath_(std::move(dbPath)),
      experiment_(std::move(experiment)),
      name_(std::move(name)),
      dataDir_(std::move(dataDir)),
      config_(std::move(config)),
      ranks_(ranks),
      threads_(threads) {
  process_.setProcessChannelMode(QProcess::SeparateChannels);
  connect(&process_, &QProcess::readyReadStandardError, this, &RankedRunProcess::readLines);
  connect(&process_, &QProcess::finished, this, &RankedRunProcess::finish);
  connect(&process_, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
    if (e == QProcess::FailedToStart)
      emit refused("cannot start " + cliPath() + ": " + process_.errorString());
  });
}

RankedRunProcess::~RankedRunProcess() {
  if (process_.state() != QProcess::NotRunning) {
    process_.terminate();
    if (!process_.waitForFinished(30000)) process_.kill();
  }
}

QString RankedRunProcess::cliPath() {
  return QCoreApplication::applicationDirPath() + "/moelab-cli";
}

void RankedRunProcess::start() {
  if (!QFileInfo(cliPath()).isExecutable()) {
    emit refused("a run with several ranks is started by moelab-cli, which is not beside the app (" +
                 cliPath() + "); reinstall MoE Lab or start the run with 1 rank");
    return;
  }
  QStringList args = {"train"};
  if (resumeId_ > 0) {
    args << "--resume" << QString::number(resumeId_);
  } else {
    // The file's stem names the experiment, as for `moelab-cli train FILE`.
    QString stem = experiment_;
    stem.replace(QRegularExpression("[^A-Za-z0-9_.-]"), "_");
    if (stem.isEmpty()) stem = "experiment";
    const QString file = configDir_.filePath(stem + ".json");
    QFile f(file);
    if (!configDir_.isValid() || !f.open(QIODevice::WriteOnly) ||
        f.write(QByteArray::fromStdString(config_.dump(2))) < 0 || !f.flush()) {
      emit refused("cannot write the run's config into a temporary folder (" + file + ")");
      return;
    }
    args << file;
  }
  args << "--db" << dbPath_ << "--nproc" << QString::number(ranks_) << "--threads"
       << QString::number(threads_);
  if (!name_.isEmpty()) args << "--name" << name_;
  if (!dataDir_.isEmpty()) args << "--data-dir" << dataDir_;
  process_.start(cliPath(), args);
}

void RankedRunProcess::requestStop() {
  if (process_.state() != QProcess::NotRunning) process_.terminate();
}

void RankedRunProcess::readLines() {
  pending_ += process_.readAllStandardError();
  // Progress lines end in \n (not a terminal); keep a partial line for the next read.
  int at;
  while ((at = pending_.indexOf('\n')) >= 0) {
    handleLine(QString::fromUtf8(pending_.left(at)).trimmed());
    pending_.remove(0, at + 1);
  }
}

void RankedRunProcess::handleLine(const QString& line) {
  if (line.isEmpty()) return;
  static const QRegularExpression runLine(R"(^run (\d+): )");
  static const QRegularExpression stepLine(
      R"(^step (\d+)/(\d+)\s+epoch (\d+)\s+loss ([-+0-9.eEnaif]+).*?lr ([-+0-9.eE]+)\s+(\d+) tok/s)");
  if (auto m = runLine.match(line); m.hasMatch() && runId_ == 0) {
    runId_ = m.captured(1).toLongLong();
    emit started(runId_);
    emit noticed(runId_, line.mid(m.capturedLength()), false);
    return;
  }
  if (auto m = stepLine.match(line); m.hasMatch()) {
    TrainProgress p;
    p.step = m.captured(1).toLongLong();
    p.totalSteps = m.captured(2).toLongLong();
    p.epoch = m.captured(3).toLongLong() - 1;
    // A number the line does not parse to is shown as NaN, never as a made-up 0.
    const auto number = [&](int i) {
      bool ok = false;
      const double v = m.captured(i).toDouble(&ok);
      return ok ? v : std::numeric_limits<double>::quiet_NaN();
    };
    p.loss = number(4);
    p.learningRate = number(5);
    p.tokensPerSecond = number(6);
    if (runId_ > 0) emit progressed(runId_, p);
    return;
  }
  if (line.startsWith("error: ")) {
    lastError_ = line.mid(7);
  } else if (line.startsWith("warning: ")) {
    emit noticed(runId_, line.mid(9), true);
  } else if (runId_ > 0 && !line.startsWith("[")) {
    emit noticed(runId_, line, false);
  }
}

void RankedRunProcess::finish(int exitCode, QProcess::ExitStatus exitStatus) {
  readLines();
  if (!pending_.isEmpty()) handleLine(QString::fromUtf8(pending_).trimmed());
  pending_.clear();
  // The last stdout line is {"run_id": N, "status": "..."} when rank 0 got to the end.
  const auto out = process_.readAllStandardOutput().trimmed().split('\n');
  const auto doc =
      nlohmann::json::parse(out.isEmpty() ? std::string() : out.last().toStdString(), nullptr, false);
  if (doc.is_object() && doc.contains("status"))
    status_ = QString::fromStdString(doc["status"].get<std::string>());
  if (runId_ == 0) {
    emit refused(!lastError_.isEmpty()
                     ? lastError_
                     : QString("moelab-cli train --nproc %1 ended (%2) before it created a run")
                           .arg(ranks_)
                           .arg(exitStatus == QProcess::CrashExit
                                    ? QString("crashed")
                                    : "exit code " + QString::number(exitCode)));
    return;
  }
  if (status_.isEmpty()) status_ = exitCode == 130 ? "interrupted" : "failed";
  emit ended(runId_, status_, status_ == "finished" ? QString() : lastError_);
}

}  // namespace moelab::ui
