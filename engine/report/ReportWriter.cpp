#include "report/ReportWriter.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "io/MetricsCsv.h"
#include "report/HtmlReport.h"
#include "report/RunComparison.h"
#include "store/ExperimentStore.h"
#include "util/Errors.h"

namespace fs = std::filesystem;

namespace moelab {
namespace {

void prepareFolder(const std::string& folder) {
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec || !fs::is_directory(folder))
    throw UserError("cannot create report folder " + folder + ": " + (ec ? ec.message() : "not a folder"));
}

template <typename Write>
void writeFile(const std::string& folder, const std::string& name, Write write) {
  const std::string path = (fs::path(folder) / name).string();
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw UserError("cannot write " + path + ": choose a folder you can write to");
  write(f);
  if (!f) throw UserError("writing " + path + " failed (disk full?)");
}

// Per metric key: rows, last step, final, smallest and largest value.
void metricSummary(HtmlReport& html, const std::vector<MetricPoint>& points) {
  struct Summary {
    size_t rows = 0;
    int64_t lastStep = 0;
    double last = 0, lo = 0, hi = 0;
  };
  std::map<std::string, Summary> byKey;
  for (const auto& p : points) {
    Summary& s = byKey[p.key];
    if (s.rows == 0 || p.value < s.lo) s.lo = p.value;
    if (s.rows == 0 || p.value > s.hi) s.hi = p.value;
    if (s.rows == 0 || p.step >= s.lastStep) s.lastStep = p.step, s.last = p.value;
    ++s.rows;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& [key, s] : byKey)
    rows.push_back({key, std::to_string(s.rows), std::to_string(s.lastStep), formatMetric(s.last),
                    formatMetric(s.lo), formatMetric(s.hi)});
  html.table({"metric", "rows", "last step", "final", "min", "max"}, rows);
}

void evaluations(HtmlReport& html, const std::vector<MetricPoint>& points) {
  std::map<int64_t, std::pair<std::string, std::string>> byStep;
  for (const auto& p : points) {
    if (p.key == "val/loss") byStep[p.step].first = formatMetric(p.value);
    if (p.key == "val/perplexity") byStep[p.step].second = formatMetric(p.value);
  }
  if (byStep.empty()) return;
  std::vector<std::vector<std::string>> rows;
  for (const auto& [step, v] : byStep) rows.push_back({std::to_string(step), v.first, v.second});
  html.heading("Evaluations");
  html.table({"step", "val/loss", "val/perplexity"}, rows);
}

void charts(HtmlReport& html, const std::vector<ReportImage>& images) {
  if (images.empty()) return;
  html.heading("Charts");
  for (const auto& i : images) html.image(i.relPath, i.caption);
}

}  // namespace

std::vector<std::string> writeRunReport(const ExperimentStore& store, int64_t id, const std::string& folder,
                                        const std::vector<ReportImage>& images) {
  auto run = store.run(id);
  if (!run) throw UserError("no run with id " + std::to_string(id));
  prepareFolder(folder);
  const auto points = store.metrics(id);
  writeFile(folder, "metrics-long.csv", [&](std::ostream& o) { writeMetricsLong(o, id, points); });
  writeFile(folder, "metrics-wide.csv", [&](std::ostream& o) { writeMetricsWide(o, points); });

  HtmlReport html("Run " + std::to_string(id) + " · " + run->name);
  html.paragraph("Experiment " + run->experiment + " · status " + run->status + " at step " +
                 std::to_string(run->step) + " · created " + run->createdAt +
                 (run->finishedAt.empty() ? "" : " · ended " + run->finishedAt));
  if (!run->error.empty()) html.paragraph("Error: " + run->error);
  charts(html, images);
  html.heading("Metrics");
  metricSummary(html, points);
  evaluations(html, points);
  html.heading("Config");
  html.preformatted(run->config.dump(2));
  html.heading("Data provenance");
  html.preformatted(run->provenance.is_null() ? "(not recorded)" : run->provenance.dump(2));
  const auto changes = store.configChanges(id);
  if (!changes.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : changes)
      rows.push_back({std::to_string(c.step), c.changedAt, c.changes.dump(), c.note});
    html.heading("Config changes on resume");
    html.table({"step", "when", "changes", "note"}, rows);
  }
  html.heading("Files");
  html.links({{"All metric rows, long (run, key, step, value, wall_time)", "metrics-long.csv"},
              {"All metric rows, wide (one column per metric)", "metrics-wide.csv"}});
  html.write((fs::path(folder) / "index.html").string());
  std::vector<std::string> files{"index.html", "metrics-long.csv", "metrics-wide.csv"};
  for (const auto& i : images) files.push_back(i.relPath);
  return files;
}

std::vector<std::string> writeComparisonReport(const ExperimentStore& store, const std::vector<int64_t>& ids,
                                               const std::string& folder,
                                               const std::vector<ReportImage>& images) {
  const RunComparison c = RunComparison::build(store, ids);
  prepareFolder(folder);
  std::vector<std::string> files{"index.html", "comparison.csv"};
  writeFile(folder, "comparison.csv", [&](std::ostream& o) { c.writeCsv(o); });
  std::vector<std::pair<std::string, std::string>> links{{"Comparison table", "comparison.csv"}};
  for (int64_t id : ids) {
    const std::string name = "run-" + std::to_string(id) + "-metrics-long.csv";
    const auto points = store.metrics(id);
    writeFile(folder, name, [&](std::ostream& o) { writeMetricsLong(o, id, points); });
    links.push_back({"Run " + std::to_string(id) + ": all metric rows", name});
    files.push_back(name);
  }
  std::string title = "Comparison of runs";
  for (size_t i = 0; i < ids.size(); ++i) title += (i ? ", " : " ") + std::to_string(ids[i]);
  HtmlReport html(title);
  std::vector<std::vector<std::string>> runRows;
  for (const auto& r : c.runs)
    runRows.push_back({std::to_string(r.id), r.name, r.experiment, r.status, std::to_string(r.step)});
  html.table({"run", "name", "experiment", "status", "step"}, runRows);
  html.paragraph(std::to_string(c.differingConfigFields()) + " config field(s) differ (highlighted).");
  charts(html, images);
  std::vector<std::string> header{"section", "field"};
  for (const auto& r : c.runs) header.push_back("run " + std::to_string(r.id));
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> highlight;
  for (const auto& row : c.rows) {
    std::vector<std::string> cells{row.section, row.field};
    cells.insert(cells.end(), row.values.begin(), row.values.end());
    rows.push_back(std::move(cells));
    highlight.push_back(row.differs);
  }
  html.heading("Configs and metrics");
  html.table(header, rows, highlight);
  html.heading("Files");
  html.links(links);
  html.write((fs::path(folder) / "index.html").string());
  for (const auto& i : images) files.push_back(i.relPath);
  return files;
}

}  // namespace moelab
