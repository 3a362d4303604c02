#pragma once
#include <cstdint>
#include <ostream>
#include <string>

namespace moelab {

// The one CSV writer (metrics export, simulator comparisons, later the GUI's exports): RFC 4180
// quoting (a field with a comma, quote, CR or LF, or leading/trailing space is quoted, quotes
// doubled) and spreadsheet formula-injection protection (a text cell starting with = + - @, tab
// or CR gets a leading apostrophe, so a run named "=HYPERLINK(...)" stays text; a cell that is
// just a number, such as "-0.5", is data and is left alone). Numbers are
// written as numbers, with 17 significant digits. Rows end with LF.
class CsvWriter {
 public:
  explicit CsvWriter(std::ostream& out) : out_(out) {}
  CsvWriter& text(const std::string& value);
  CsvWriter& number(double value);
  CsvWriter& integer(int64_t value);
  CsvWriter& empty();  // a missing value
  void endRow();

  static std::string escape(const std::string& value);  // one text cell as it is written

 private:
  void separator();
  std::ostream& out_;
  bool rowStarted_ = false;
};

}  // namespace moelab
