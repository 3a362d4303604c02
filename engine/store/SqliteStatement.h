#pragma once
// The experiment store's SQLite helpers, shared by its source files (not a public API).
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace moelab::store_detail {

// Non-finite metric values are stored as NULL with an explicit kind, never as a REAL NaN.
enum ValueKind { kFinite = 0, kNaN = 1, kPosInf = 2, kNegInf = 3 };
inline int kindOf(double v) {
  return std::isnan(v) ? kNaN : std::isinf(v) ? (v > 0 ? kPosInf : kNegInf) : kFinite;
}
inline double fromKind(int kind, double v) {
  switch (kind) {
    case kNaN:
      return std::numeric_limits<double>::quiet_NaN();
    case kPosInf:
      return std::numeric_limits<double>::infinity();
    case kNegInf:
      return -std::numeric_limits<double>::infinity();
    default:
      return v;
  }
}

inline std::string nowIso() {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buf[32];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

inline std::string hostName() {
  char buf[256] = {0};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

// A stored JSON text, or `dflt` for an empty column (a damaged text parses as discarded).
inline nlohmann::json parseOr(const std::string& s, nlohmann::json dflt) {
  if (s.empty()) return dflt;
  return nlohmann::json::parse(s, nullptr, false);
}

// "(?, ?, ..., ?)" with n placeholders (n >= 1), for `IN` lists.
inline std::string placeholders(size_t n) {
  std::string s = "(?";
  for (size_t i = 1; i < n; ++i) s += ", ?";
  return s + ")";
}

// RAII prepared statement with positional binding.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db), sql_(sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("SQLite prepare failed: ") + sqlite3_errmsg(db) + " in: " + sql);
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt& bind(int i, int64_t v) { return check(sqlite3_bind_int64(s_, i, v)); }
  Stmt& bind(int i, int v) { return check(sqlite3_bind_int64(s_, i, v)); }
  Stmt& bind(int i, double v) { return check(sqlite3_bind_double(s_, i, v)); }
  Stmt& bind(int i, const std::string& v) {
    return check(sqlite3_bind_text(s_, i, v.c_str(), int(v.size()), SQLITE_TRANSIENT));
  }
  Stmt& bindNull(int i) { return check(sqlite3_bind_null(s_, i)); }
  bool step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(std::string("SQLite step failed: ") + sqlite3_errmsg(db_) +
                             " (in: " + sql_.substr(0, 60) + ")");
  }
  void run() {
    step();
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  int64_t i64(int c) const { return sqlite3_column_int64(s_, c); }
  double f64(int c) const { return sqlite3_column_double(s_, c); }
  std::string text(int c) const {
    auto p = sqlite3_column_text(s_, c);
    return p ? reinterpret_cast<const char*>(p) : "";
  }

 private:
  Stmt& check(int rc) {
    if (rc != SQLITE_OK) throw std::runtime_error(std::string("SQLite bind failed: ") + sqlite3_errmsg(db_));
    return *this;
  }
  sqlite3* db_;
  std::string sql_;
  sqlite3_stmt* s_ = nullptr;
};

}  // namespace moelab::store_detail
