#include "io/MetricsCsv.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "io/CsvWriter.h"

namespace moelab {

void writeMetricsLong(std::ostream& out, int64_t run, const std::vector<MetricPoint>& points) {
  CsvWriter w(out);
  w.text("run").text("key").text("step").text("value").text("wall_time").endRow();
  for (const auto& m : points)
    w.integer(run).text(m.key).integer(m.step).number(m.value).number(m.wallTime).endRow();
}

void writeMetricsWide(std::ostream& out, const std::vector<MetricPoint>& points) {
  std::set<std::string> keySet;
  for (const auto& m : points) keySet.insert(m.key);
  const std::vector<std::string> keys(keySet.begin(), keySet.end());
  std::map<std::string, size_t> column;
  for (size_t i = 0; i < keys.size(); ++i) column[keys[i]] = i;
  struct Row {
    double wallTime = 0;
    std::vector<const double*> values;
  };
  std::map<int64_t, Row> rows;
  for (const auto& m : points) {
    Row& r = rows[m.step];
    if (r.values.empty()) r.values.assign(keys.size(), nullptr);
    r.values[column[m.key]] = &m.value;
    r.wallTime = std::max(r.wallTime, m.wallTime);
  }
  CsvWriter w(out);
  w.text("step").text("wall_time");
  for (const auto& k : keys) w.text(k);
  w.endRow();
  for (const auto& [step, r] : rows) {
    w.integer(step).number(r.wallTime);
    for (const double* v : r.values) {
      if (v)
        w.number(*v);
      else
        w.empty();
    }
    w.endRow();
  }
}

}  // namespace moelab
