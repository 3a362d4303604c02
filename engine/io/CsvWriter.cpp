#include "io/CsvWriter.h"

#include <cctype>
#include <cmath>
#include <cstdio>

namespace moelab {

namespace {
// "-0.5", "+3", "1e-4": a number as text is data, not a formula, and is left as it is.
bool isPlainNumber(const std::string& v) {
  size_t i = 0;
  if (i < v.size() && (v[i] == '-' || v[i] == '+')) ++i;
  size_t digits = 0;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i, ++digits;
  if (i < v.size() && v[i] == '.') ++i;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i, ++digits;
  if (digits == 0) return false;
  if (i < v.size() && (v[i] == 'e' || v[i] == 'E')) {
    ++i;
    if (i < v.size() && (v[i] == '-' || v[i] == '+')) ++i;
    size_t exp = 0;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i, ++exp;
    if (exp == 0) return false;
  }
  return i == v.size();
}
}  // namespace

std::string CsvWriter::escape(const std::string& value) {
  std::string v = value;
  if (!v.empty() && !isPlainNumber(v) &&
      (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r'))
    v.insert(v.begin(), '\'');
  const bool quote = v.find_first_of(",\"\r\n") != std::string::npos ||
                     (!v.empty() && (v.front() == ' ' || v.back() == ' '));
  if (!quote) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

void CsvWriter::separator() {
  if (rowStarted_) out_ << ',';
  rowStarted_ = true;
}

CsvWriter& CsvWriter::text(const std::string& value) {
  separator();
  out_ << escape(value);
  return *this;
}

CsvWriter& CsvWriter::number(double value) {
  separator();
  if (std::isnan(value)) {
    out_ << "nan";
  } else if (std::isinf(value)) {
    out_ << (value > 0 ? "inf" : "-inf");
  } else {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", value);
    out_ << buf;
  }
  return *this;
}

CsvWriter& CsvWriter::integer(int64_t value) {
  separator();
  out_ << value;
  return *this;
}

CsvWriter& CsvWriter::empty() {
  separator();
  return *this;
}

void CsvWriter::endRow() {
  out_ << '\n';
  rowStarted_ = false;
}

}  // namespace moelab
