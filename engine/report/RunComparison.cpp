#include "report/RunComparison.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "config/ExperimentConfig.h"
#include "io/CsvWriter.h"
#include "store/ExperimentStore.h"
#include "util/Errors.h"

namespace moelab {

std::string formatMetric(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

namespace {
std::string scalarText(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}
bool lowerIsBetter(const std::string& key) {
  return key.find("loss") != std::string::npos || key.find("perplexity") != std::string::npos;
}
void markDifferences(RunComparison::Row& row) {
  for (const auto& v : row.values)
    if (v != row.values.front()) row.differs = true;
}
}  // namespace

RunComparison RunComparison::build(const ExperimentStore& store, const std::vector<int64_t>& ids) {
  RunComparison c;
  std::vector<nlohmann::json> flat;
  std::set<std::string> configKeys, metricKeys;
  std::vector<std::map<std::string, MetricPoint>> latest;
  for (int64_t id : ids) {
    auto r = store.run(id);
    if (!r) throw UserError("no run with id " + std::to_string(id));
    c.runs.push_back({r->id, r->name, r->experiment, r->status, r->step});
    flat.push_back(flattenConfig(r->config));
    for (const auto& [k, v] : flat.back().items()) configKeys.insert(k);
    latest.push_back(store.latestMetrics(id));
    for (const auto& [k, m] : latest.back()) metricKeys.insert(k);
  }
  for (const auto& key : configKeys) {
    Row row{"config", key, {}, false};
    for (const auto& f : flat) row.values.push_back(f.contains(key) ? scalarText(f[key]) : "");
    markDifferences(row);
    c.rows.push_back(std::move(row));
  }
  for (const auto& key : metricKeys) {
    Row row{"final", key, {}, false};
    for (const auto& l : latest) {
      auto it = l.find(key);
      row.values.push_back(it == l.end() ? "" : formatMetric(it->second.value));
    }
    markDifferences(row);
    c.rows.push_back(std::move(row));
  }
  for (const auto& key : metricKeys) {
    if (!lowerIsBetter(key)) continue;
    const auto best = store.minimumValues(key, &ids);
    Row row{"best", key, {}, false};
    for (int64_t id : ids) {
      auto it = best.find(id);
      row.values.push_back(it == best.end() ? "" : formatMetric(it->second));
    }
    markDifferences(row);
    c.rows.push_back(std::move(row));
  }
  return c;
}

void RunComparison::writeCsv(std::ostream& out) const {
  CsvWriter w(out);
  w.text("section").text("field");
  for (const auto& r : runs) w.text("run " + std::to_string(r.id) + " " + r.name);
  w.text("differs").endRow();
  for (const auto& row : rows) {
    w.text(row.section).text(row.field);
    for (const auto& v : row.values) w.text(v);
    w.text(row.differs ? "yes" : "no").endRow();
  }
}

size_t RunComparison::differingConfigFields() const {
  size_t n = 0;
  for (const auto& r : rows) n += r.section == "config" && r.differs;
  return n;
}

}  // namespace moelab
