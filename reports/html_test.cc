// The HTML report: golden file, well-formed SVG (xmllint), self-contained,
// failures first, charts aligned on the signal, markers and tooltips.
#include "html.h"

#include <gtest/gtest.h>

#include <vector>

#include "json.h"
#include "report_fixture.h"

namespace gracecheck {
namespace {

using nlohmann::json;

std::vector<std::string> Svgs(const std::string& html) {
  std::vector<std::string> svgs;
  for (std::size_t at = html.find("<svg"); at != std::string::npos;
       at = html.find("<svg", at + 1)) {
    const std::size_t end = html.find("</svg>", at);
    if (end == std::string::npos) break;
    svgs.push_back(html.substr(at, end + 6 - at));
  }
  return svgs;
}

// The value of attribute `name` in the first element after `marker`.
std::string AttributeAfter(const std::string& text, const std::string& marker,
                           const std::string& name) {
  const std::size_t at = text.find(marker);
  if (at == std::string::npos) return "(no " + marker + ")";
  const std::size_t a = text.find(name + "=\"", at);
  if (a == std::string::npos) return "(no " + name + ")";
  const std::size_t start = a + name.size() + 2;
  return text.substr(start, text.find('"', start) - start);
}

void ExpectWellFormedSvgs(const std::string& html, std::size_t count) {
  const std::vector<std::string> svgs = Svgs(html);
  ASSERT_EQ(svgs.size(), count) << html.substr(0, 500);
  for (const std::string& svg : svgs) {
    std::string said;
    EXPECT_EQ(testing::Xmllint("--noout", svg, &said), 0) << "SVG not well-formed: " << said << "\n"
                                                          << svg.substr(0, 1500);
    EXPECT_EQ(svg.find("xmlns=\"http://www.w3.org/2000/svg\""), 5u) << svg.substr(0, 200);
  }
}

TEST(HtmlReportTest, MatchesGolden) {
  testing::ExpectGolden("report.html", HtmlReport(testing::FixtureReport()));
}

TEST(HtmlReportTest, EachRunHasAWellFormedSvgChart) {
  ExpectWellFormedSvgs(HtmlReport(testing::FixtureReport()), 2);
}

TEST(HtmlReportTest, SelfContained) {
  std::string html = HtmlReport(testing::FixtureReport());
  // The SVG namespace is a name, not a download.
  for (std::size_t at; (at = html.find("http://www.w3.org/2000/svg")) != std::string::npos;) {
    html.erase(at, 26);
  }
  for (const char* outside : {"http:", "https:", "<script", "<link", "src=", "@import", "url(",
                              "@font-face", "<iframe", "<img"}) {
    EXPECT_EQ(html.find(outside), std::string::npos) << "found " << outside;
  }
}

TEST(HtmlReportTest, FailedChecksWithEvidenceComeFirst) {
  const std::string html = HtmlReport(testing::FixtureReport());
  const std::size_t failures = html.find("<h2>Failed checks</h2>");
  const std::size_t first_chart = html.find("<svg");
  ASSERT_NE(failures, std::string::npos) << html.substr(0, 3000);
  EXPECT_LT(failures, first_chart);
  const std::size_t evidence = html.find("key &#39;k-0008&#39; (request 7): acknowledged");
  EXPECT_GT(evidence, failures);
  EXPECT_LT(evidence, first_chart);
  EXPECT_EQ(html.find("hunter2"), std::string::npos) << "a password from the target's log";
}

TEST(HtmlReportTest, ChartsShareOneTimeAxisAlignedOnTheSignal) {
  const std::vector<std::string> svgs = Svgs(HtmlReport(testing::FixtureReport()));
  ASSERT_EQ(svgs.size(), 2u);
  // The SIGTERM marker, and the "0" tick under it, sit at the same x in both.
  const std::string x_pass = AttributeAfter(svgs[0], "<title>SIGTERM delivered", "x1");
  const std::string x_fail = AttributeAfter(svgs[1], "<title>SIGTERM delivered", "x1");
  EXPECT_EQ(x_pass, x_fail);
  EXPECT_NE(svgs[0].find("x=\"" + x_pass + "\" y=\""), std::string::npos)
      << "no tick at " << x_pass;
  EXPECT_NE(svgs[0].find("seconds relative to SIGTERM (the first fault)"), std::string::npos);
  EXPECT_NE(svgs[0].find(">\u22120.4 s</text>"), std::string::npos) << "a tick before the signal";
  EXPECT_NE(svgs[0].find(">+0.4 s</text>"), std::string::npos) << "a tick after the signal";
}

TEST(HtmlReportTest, MarkersForEveryMomentOfTheShutdown) {
  const std::string svg = Svgs(HtmlReport(testing::FixtureReport()))[0];
  for (const char* title :
       {"<title>ready at -520.1ms", "<title>SIGTERM delivered at +0.000ms (scheduled -0.150ms",
        "<title>listener closed: the first refused connection at +200.1ms",
        "<title>the last complete response at +180.2ms",
        "<title>DB pool closed: no session of the run&#39;s database from the sample at +154.8ms",
        "<title>exit 0 at +189.8ms"}) {
    EXPECT_NE(svg.find(title), std::string::npos) << title << "\n" << svg.substr(0, 3000);
  }
}

// A pool that began closing long before it was gone (refapi --bug=db-first)
// gets its own marker; one that closed in one go (the fixture) does not.
TEST(HtmlReportTest, PoolClosingEarlyHasItsOwnMarker) {
  nlohmann::json report = testing::FixtureReport();
  EXPECT_EQ(Svgs(HtmlReport(report))[0].find("DB pool began closing"), std::string::npos);
  report["runs"][0]["moments_ms"]["db_pool_closing"] = 601.0;  // +0.85ms, 154ms before gone
  const std::string svg = Svgs(HtmlReport(report))[0];
  EXPECT_NE(svg.find("<title>DB pool began closing: the target closed its first session at "
                     "+0.850ms"),
            std::string::npos)
      << svg.substr(0, 3000);
}

TEST(HtmlReportTest, HoveringABucketOrSampleShowsItsNumbers) {
  const std::string svg = Svgs(HtmlReport(testing::FixtureReport()))[1];
  EXPECT_NE(svg.find("<rect class=\"hit\""), std::string::npos);
  EXPECT_NE(svg.find("started 1: 1 reset\nfinished 1: 1 eof\nin flight: at most 2"),
            std::string::npos)
      << svg.substr(0, 3000);
  EXPECT_NE(svg.find("DB sessions (2 active, 0 idle in transaction, 3 idle, 0 other)"),
            std::string::npos);
  EXPECT_NE(svg.find(": 14 threads, 24 open files"), std::string::npos);
}

TEST(HtmlReportTest, InitialV1ReportRendersWithoutRequestSeries) {
  const std::string html = HtmlReport(json::parse(testing::ReadTestdata("report_v1_initial.json")));
  ExpectWellFormedSvgs(html, 2);
  EXPECT_NE(html.find("no request series in this report"), std::string::npos);
  EXPECT_NE(html.find("DB sessions of the run&#39;s database"), std::string::npos);
}

TEST(HtmlReportTest, SkippedCheckHasItsOwnMarkNotGreen) {
  const std::string html = HtmlReport(testing::FixtureReport());
  EXPECT_NE(html.find("<tr class=\"skip\"><td class=\"skip\" title=\"skipped\">–</td><td><code>"
                      "threads.growth</code>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<td>12 passed, 1 skipped</td>"), std::string::npos) << html;
}

TEST(HtmlReportTest, ATargetThatDidNotStartIsAnErrorWithItsReason) {
  const std::string html = HtmlReport(testing::NotStartedReport());
  EXPECT_NE(html.find("<h1><span class=\"badge error\">ERROR</span> gracecheck: 1 of 2 runs "
                      "whose target did not start</h1>"),
            std::string::npos)
      << html.substr(0, 4000);
  EXPECT_NE(html.find("<p><b>The target did not start</b>, so nothing was judged:</p>\n"
                      "<ul class=\"harness-errors\">\n<li>the target exited before it was ready "
                      "(exit 7)</li>"),
            std::string::npos)
      << html;
}

TEST(HtmlReportTest, InvalidRunShowsErrorWithReasonsNeverGreen) {
  const std::string html = HtmlReport(testing::InvalidRunReport());
  EXPECT_NE(html.find("<h1><span class=\"badge error\">ERROR</span> gracecheck: 1 of 2 runs "
                      "invalid (harness error)</h1>"),
            std::string::npos)
      << html.substr(0, 4000);
  EXPECT_NE(html.find("<h2>Invalid runs</h2>"), std::string::npos) << html.substr(0, 4000);
  EXPECT_NE(html.find("<h2><span class=\"badge error\">ERROR</span> sigterm-mid-load against "
                      "refapi-invalid</h2>"),
            std::string::npos);
  EXPECT_NE(html.find("<li>the /proc probe died at +80.0ms: &lt;cannot read /proc/31337/status&gt; "
                      "&amp; stopped sampling</li>"),
            std::string::npos);
  EXPECT_EQ(html.find("<span class=\"badge pass\">PASS</span> sigterm-mid-load against "
                      "refapi-invalid"),
            std::string::npos);
  ExpectWellFormedSvgs(html, 2);
}

}  // namespace
}  // namespace gracecheck
