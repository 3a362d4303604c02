#pragma once
#include <string>
#include <vector>

namespace moelab {

// A self-contained HTML page (inline CSS, no scripts, no remote resources) built section by
// section: what `Export report` writes as index.html. Every text is HTML-escaped.
class HtmlReport {
 public:
  explicit HtmlReport(std::string title);
  void heading(const std::string& text);
  void paragraph(const std::string& text);
  void preformatted(const std::string& text);
  // A table; rows in `highlight` (by index) are marked (e.g. config fields that differ).
  void table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
             const std::vector<bool>& highlight = {});
  void image(const std::string& relPath, const std::string& caption);
  void links(const std::vector<std::pair<std::string, std::string>>& textAndRelPath);
  std::string html() const;
  // Writes atomically (temp file + rename); throws UserError when the folder is not writable.
  void write(const std::string& path) const;

  static std::string escape(const std::string& text);

 private:
  std::string title_, body_;
};

}  // namespace moelab
