#include "report_files.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "html.h"
#include "json.h"
#include "junit.h"
#include "markdown.h"

namespace gracecheck {

void WriteReportFile(const std::string& path, const std::string& text, const std::string& what) {
  errno = 0;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (out) out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (out) out.flush();
  if (!out) {
    throw std::runtime_error(fmt::format("cannot write {} to {}: {}", what, path,
                                         errno != 0 ? std::strerror(errno) : "write failed"));
  }
}

void WriteReportFiles(const nlohmann::json& report, const ReportFiles& files) {
  if (!files.json.empty()) WriteJsonReport(files.json, report);
  if (!files.html.empty()) WriteReportFile(files.html, HtmlReport(report), "the HTML report");
  if (!files.junit.empty()) WriteReportFile(files.junit, JunitReport(report), "the JUnit report");
  if (!files.markdown.empty()) {
    WriteReportFile(files.markdown, MarkdownReport(report), "the Markdown report");
  }
}

}  // namespace gracecheck
