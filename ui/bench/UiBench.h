#pragma once
#include <QStringList>

namespace moelab::ui {

// `moelab --bench-ui [--steps N]`: trains a quickstart-sized model with its run page and charts
// live (offscreen) and prints one JSON document: event-loop stalls seen by a 5 ms probe timer
// (max, p99), chart redraws per second, metric rows received.
// `moelab --bench-ui --large [--runs N] [--rows N]`: builds a database of N runs × rows metric rows
// through the store API in a temporary folder, then times opening it to a sorted runs table,
// filtering it and redrawing a 100,000-point series.
// Returns the process exit code (0: measured; 1: a target missed or the run failed; 2: bad input).
int runUiBench(const QStringList& arguments);

}  // namespace moelab::ui
