#include "report/AnalysisSummary.h"

#include <cstdio>

namespace moelab {
namespace {
std::string format(const char* fmt, double a, double b = 0, double c = 0, double d = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, a, b, c, d);
  return buf;
}
double num(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0.0;
}
std::string str(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}
}  // namespace

std::string summarizeAnalysis(const AnalysisRecord& a) {
  const nlohmann::json& c = a.content;
  if (!c.is_object()) return a.kind + " (unreadable)";
  if (a.kind == "evaluation" && str(c, "task") == "lambada")
    return format("LAMBADA accuracy %.2f%% (%.0f passages), word perplexity %.2f", 100 * num(c, "accuracy"),
                  num(c, "passages"), num(c, "perplexity"));
  if (a.kind == "evaluation") {
    const bool strided = str(c, "mode") == "strided";
    return format("perplexity %.2f", num(c, "perplexity")) + " on " + str(c, "source") +
           (strided ? format(" (strided, context %.0f, stride %.0f, %.0f tokens)", num(c, "context_length"),
                             num(c, "stride"), num(c, "tokens"))
                    : format(" (per line, %.0f samples, %.0f tokens)", num(c, "samples"), num(c, "tokens")));
  }
  if (a.kind == "routing_profile") {
    const std::string head = "routing over " + str(c, "source") +
                             (str(c, "strategy") != "none" ? " with " + str(c, "strategy") : std::string());
    const std::string ppl = c.contains("perplexity") && c["perplexity"].is_number()
                                ? format(", perplexity %.2f", num(c, "perplexity"))
                                : std::string();
    if (!c.contains("mean")) return head + ": expert coupling" + ppl;
    const auto& m = c["mean"];
    return head +
           format(": mean Gini %.3f, CV %.2f, max/mean %.2f", num(m, "gini"), num(m, "cv"),
                  num(m, "max_mean")) +
           ppl;
  }
  if (a.kind == "reassignment")
    return format("reassignment of %.0f strategies",
                  double(c.value("rows", nlohmann::json::array()).size())) +
           " over " + str(c, "source") + " on " + str(c, "cluster") + format(" (%.0f GPUs)", num(c, "gpus"));
  return a.kind;
}

}  // namespace moelab
