#pragma once
#include <QMetaType>

#include "metrics/Metrics.h"

// TrainProgress travels in queued signals (RunWorker, RankedRunProcess): declared once here.
Q_DECLARE_METATYPE(moelab::TrainProgress)
