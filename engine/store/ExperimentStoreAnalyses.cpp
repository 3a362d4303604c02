// ExperimentStore: analyses of a run's model (see ExperimentStore.h).
#include <algorithm>

#include "store/ExperimentStore.h"
#include "store/SqliteStatement.h"
#include "util/Errors.h"

namespace moelab {
using namespace store_detail;

int64_t ExperimentStore::addAnalysis(int64_t run, const std::string& kind, const std::string& label,
                                     const nlohmann::json& content) {
  static const char* kinds[] = {"routing_profile", "evaluation", "reassignment"};
  if (std::find(std::begin(kinds), std::end(kinds), kind) == std::end(kinds))
    throw UserError("unknown analysis kind \"" + kind + "\"");
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  if (!this->run(run)) throw UserError("no run with id " + std::to_string(run));
  int64_t id = 0;
  withBusyRetry([&] {
    Stmt s(db_, "INSERT INTO analyses(run_id, kind, label, content, created_at) VALUES(?, ?, ?, ?, ?)");
    s.bind(1, run).bind(2, kind).bind(3, label).bind(4, content.dump()).bind(5, nowIso()).run();
    id = sqlite3_last_insert_rowid(db_);
  });
  return id;
}

namespace {
const char* kAnalysisColumns = "SELECT id, run_id, kind, label, content, created_at FROM analyses";
AnalysisRecord readAnalysis(Stmt& s) {
  return {s.i64(0), s.i64(1), s.text(2), s.text(3), s.text(5), parseOr(s.text(4), nullptr)};
}
}  // namespace

std::vector<AnalysisRecord> ExperimentStore::analyses(int64_t run, const std::string& kind) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  std::vector<AnalysisRecord> out;
  if (schemaVersion() < 6) return out;
  Stmt s(db_,
         (std::string(kAnalysisColumns) + " WHERE run_id = ? AND (? = '' OR kind = ?) ORDER BY id").c_str());
  s.bind(1, run).bind(2, kind).bind(3, kind);
  while (s.step()) out.push_back(readAnalysis(s));
  return out;
}

std::optional<AnalysisRecord> ExperimentStore::analysis(int64_t id) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  if (schemaVersion() < 6) return std::nullopt;
  Stmt s(db_, (std::string(kAnalysisColumns) + " WHERE id = ?").c_str());
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return readAnalysis(s);
}

}  // namespace moelab
