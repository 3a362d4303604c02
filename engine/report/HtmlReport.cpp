#include "report/HtmlReport.h"

#include <filesystem>
#include <fstream>

#include "util/Errors.h"

namespace moelab {

HtmlReport::HtmlReport(std::string title) : title_(std::move(title)) {}

std::string HtmlReport::escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

void HtmlReport::heading(const std::string& text) {
  body_ += "<h2>" + escape(text) + "</h2>\n";
}

void HtmlReport::paragraph(const std::string& text) {
  body_ += "<p>" + escape(text) + "</p>\n";
}

void HtmlReport::preformatted(const std::string& text) {
  body_ += "<pre>" + escape(text) + "</pre>\n";
}

void HtmlReport::table(const std::vector<std::string>& header,
                       const std::vector<std::vector<std::string>>& rows,
                       const std::vector<bool>& highlight) {
  body_ += "<table>\n<tr>";
  for (const auto& h : header) body_ += "<th>" + escape(h) + "</th>";
  body_ += "</tr>\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    body_ += i < highlight.size() && highlight[i] ? "<tr class=\"differs\">" : "<tr>";
    for (const auto& cell : rows[i]) body_ += "<td>" + escape(cell) + "</td>";
    body_ += "</tr>\n";
  }
  body_ += "</table>\n";
}

void HtmlReport::image(const std::string& relPath, const std::string& caption) {
  body_ += "<figure><img src=\"" + escape(relPath) + "\" alt=\"" + escape(caption) + "\"><figcaption>" +
           escape(caption) + "</figcaption></figure>\n";
}

void HtmlReport::links(const std::vector<std::pair<std::string, std::string>>& textAndRelPath) {
  body_ += "<ul>\n";
  for (const auto& [text, path] : textAndRelPath)
    body_ += "<li><a href=\"" + escape(path) + "\">" + escape(text) + "</a></li>\n";
  body_ += "</ul>\n";
}

std::string HtmlReport::html() const {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + escape(title_) +
         "</title>\n<style>\n"
         "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}\n"
         "table{border-collapse:collapse;margin:0.5em 0 1.5em}\n"
         "th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px}\n"
         "th{background:#f0f0f0}\ntr.differs td{background:#fff3c4}\n"
         "pre{background:#f7f7f7;padding:0.8em;overflow-x:auto;font-size:12px}\n"
         "figure{display:inline-block;margin:0.5em}\nimg{max-width:520px;border:1px solid #ddd}\n"
         "figcaption{font-size:12px;color:#555}\n</style>\n</head>\n<body>\n<h1>" +
         escape(title_) + "</h1>\n" + body_ + "</body>\n</html>\n";
}

void HtmlReport::write(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw UserError("cannot write " + path + ": choose a folder you can write to");
    f << html();
    if (!f) throw UserError("writing " + path + " failed (disk full?)");
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace moelab
