// JUnit XML: golden file, validity against testdata/junit.xsd (xmllint), one
// suite per run and one case per check, failures with their evidence.
#include "junit.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "json.h"
#include "report_fixture.h"

namespace gracecheck {
namespace {

using nlohmann::json;

const std::string& Xsd() {
  static const std::string path = std::string(GRACECHECK_REPORTS_TESTDATA) + "/junit.xsd";
  return path;
}

// Validates `xml` against the XSD; the failure says what xmllint said.
void ExpectValid(const std::string& xml) {
  std::string said;
  EXPECT_EQ(testing::Xmllint("--noout --schema " + Xsd(), xml, &said), 0)
      << "xmllint: " << said << "\n"
      << xml.substr(0, 2000);
}

std::size_t Occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(JunitReportTest, MatchesGolden) {
  testing::ExpectGolden("junit.xml", JunitReport(testing::FixtureReport()));
}

TEST(JunitReportTest, ValidatesAgainstTheXsd) {
  ExpectValid(JunitReport(testing::FixtureReport()));
}

TEST(JunitReportTest, InitialV1ReportValidatesToo) {
  ExpectValid(JunitReport(json::parse(testing::ReadTestdata("report_v1_initial.json"))));
}

// The validation above proves something only if the schema rejects bad
// files: a suite without its hostname, a failure without its type, a time
// with a unit.
TEST(JunitReportTest, TheXsdRejectsWhatConsumersReject) {
  const std::string good = JunitReport(testing::FixtureReport());
  auto without = [&](const std::string& what, const std::string& with) {
    std::string bad = good;
    const std::size_t at = bad.find(what);
    EXPECT_NE(at, std::string::npos) << what;
    if (at != std::string::npos) bad.replace(at, what.size(), with);
    return bad;
  };
  for (const std::string& bad :
       {without(" hostname=\"localhost\"", ""),
        without("<failure type=\"requests.dropped\"", "<failure"),
        without("time=\"0\"", "time=\"0s\""),
        without("timestamp=\"2024-05-01T10:00:00\"", "timestamp=\"2024-05-01T10:00:00Z\""),
        without("<system-err>", "<system-err/><system-err>")}) {
    std::string said;
    EXPECT_NE(testing::Xmllint("--noout --schema " + Xsd(), bad, &said), 0) << "the XSD accepted:\n"
                                                                            << bad.substr(0, 1500);
  }
}

TEST(JunitReportTest, OneSuitePerRunOneCasePerCheck) {
  const std::string xml = JunitReport(testing::FixtureReport());
  EXPECT_EQ(Occurrences(xml, "<testsuite "), 2u) << xml;
  EXPECT_EQ(Occurrences(xml, "<testcase "), 26u) << xml;
  EXPECT_EQ(Occurrences(xml, "<failure "), 7u) << xml;
  EXPECT_NE(xml.find("<testsuites name=\"gracecheck\" tests=\"26\" failures=\"7\" errors=\"0\""),
            std::string::npos)
      << xml.substr(0, 300);
  EXPECT_NE(xml.find("<testcase classname=\"sigterm-mid-load.refapi\" name=\"requests.dropped\" "
                     "time=\"0\""),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("name=\"sigterm-mid-load (refapi-bug-drop)\""), std::string::npos) << xml;
}

TEST(JunitReportTest, FailureCarriesExpectedObservedAndEvidence) {
  const std::string xml = JunitReport(testing::FixtureReport());
  const std::size_t at = xml.find("<failure type=\"writes.lost\"");
  ASSERT_NE(at, std::string::npos) << xml;
  const std::string failure = xml.substr(at, xml.find("</failure>", at) - at);
  EXPECT_NE(failure.find("message=\"1 lost of 3 acknowledged"), std::string::npos) << failure;
  EXPECT_NE(failure.find("expected: &lt;= 0 lost\n"), std::string::npos) << failure;
  EXPECT_NE(failure.find("observed: 1 lost of 3 acknowledged"), std::string::npos) << failure;
  EXPECT_NE(failure.find("evidence:\n  key &#39;k-0008&#39; (request 7)"), std::string::npos)
      << failure;
}

TEST(JunitReportTest, KeyFiguresInSystemOut) {
  const std::string xml = JunitReport(testing::FixtureReport());
  EXPECT_NE(xml.find("<system-out>requests      before the signal: 10 (10 ok); after: 7"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("signal→exit   SIGTERM delivered at t=600.1ms"), std::string::npos) << xml;
  EXPECT_EQ(xml.find("hunter2"), std::string::npos) << "a password from the target's log";
}

TEST(JunitReportTest, WhateverTheTargetPrintedStaysValid) {
  json report = testing::FixtureReport();
  report["runs"][1]["target_log_tail"] = "\x1b[31mpanic\x1b[0m: <oops> & ]]> \x01\n";
  report["runs"][1]["checks"]["requests.dropped"]["evidence"][0] = "query: SELECT '<a>' -- \x02";
  ExpectValid(JunitReport(report));
}

TEST(JunitReportTest, RepeatedRunsGetNumberedSuites) {
  json report = testing::FixtureReport();
  report["runs"][1]["target"] = "refapi";
  const std::string xml = JunitReport(report);
  EXPECT_NE(xml.find("name=\"sigterm-mid-load (refapi, run 1)\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("name=\"sigterm-mid-load (refapi, run 2)\""), std::string::npos) << xml;
  ExpectValid(xml);
}

// Every test case's identity (classname, name) is unique in the report:
// compare judges each check once per target, and repeats once per run.
TEST(JunitReportTest, EveryTestCaseIsUniqueAcrossTargetsAndRepeats) {
  nlohmann::json report = testing::FixtureReport();
  report["runs"].push_back(report["runs"][0]);  // refapi twice: run 1 and run 2
  const std::string xml = JunitReport(report);
  std::set<std::string> seen;
  const std::regex testcase(R"re(<testcase classname="([^"]*)" name="([^"]*)")re");
  int n = 0;
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), testcase);
       it != std::sregex_iterator(); ++it, ++n) {
    const std::string id = (*it)[1].str() + " / " + (*it)[2].str();
    EXPECT_TRUE(seen.insert(id).second) << "twice: " << id;
  }
  EXPECT_EQ(n, 39);
  EXPECT_NE(xml.find("classname=\"sigterm-mid-load.refapi.run2\""), std::string::npos);
  EXPECT_NE(xml.find("classname=\"sigterm-mid-load.refapi-bug-drop\""), std::string::npos);
}

TEST(JunitReportTest, SkippedCheckIsASkippedTestCase) {
  const std::string xml = JunitReport(testing::FixtureReport());
  EXPECT_NE(
      xml.find("<testcase classname=\"sigterm-mid-load.refapi\" name=\"threads.growth\" "
               "time=\"0\">\n      <skipped message=\"not measurable: the fault came during "
               "the load (expected &lt;= +2 idle threads after the load)\"/>\n    </testcase>"),
      std::string::npos)
      << xml;
  EXPECT_NE(xml.find("tests=\"13\" failures=\"0\" errors=\"0\" skipped=\"1\""), std::string::npos)
      << xml;
}

TEST(JunitReportTest, ATargetThatDidNotStartHasAnErrorCaseAndItsOutput) {
  const std::string xml = JunitReport(testing::NotStartedReport());
  ExpectValid(xml);
  EXPECT_NE(xml.find("id=\"1\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\""),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<testcase classname=\"sigterm-mid-load.crash\" name=\"target started\" "
                     "time=\"0\">\n      <error type=\"target\" message=\"the target did not "
                     "start: the target exited before it was ready (exit 7)\">"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<system-err>boom: cannot open config &lt;app.yaml&gt;"), std::string::npos)
      << xml;
}

TEST(JunitReportTest, InvalidRunHasAnErrorCaseNamedHarness) {
  const std::string xml = JunitReport(testing::InvalidRunReport());
  ExpectValid(xml);
  EXPECT_NE(xml.find("<testsuites name=\"gracecheck\" tests=\"27\" failures=\"0\" errors=\"1\""),
            std::string::npos)
      << xml.substr(0, 300);
  EXPECT_NE(xml.find("id=\"1\" tests=\"14\" failures=\"0\" errors=\"1\" skipped=\"1\""),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<property name=\"verdict\" value=\"error\"/>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<testcase classname=\"sigterm-mid-load.refapi-invalid\" name=\"harness\" "
                     "time=\"0\">\n"
                     "      <error type=\"harness\" message=\"invalid run: the database monitor "
                     "connection was lost at +52.0ms: terminating connection due to administrator "
                     "command; reconnected after 10.3ms (and 1 more)\">"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("the /proc probe died at +80.0ms: &lt;cannot read /proc/31337/status&gt; "
                     "&amp; stopped sampling\n</error>"),
            std::string::npos)
      << xml;
  EXPECT_EQ(Occurrences(xml, "name=\"harness\""), 1u) << "only the invalid run has one";
}

}  // namespace
}  // namespace gracecheck
