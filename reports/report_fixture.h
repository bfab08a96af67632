// Test support for the report renderers: fixed synthetic timelines (one run
// that passes, one that fails several checks) and golden-file comparison.
//
// Golden files live in reports/testdata/. To regenerate them after an
// intended change of a report's format, run the tests with
// GRACECHECK_UPDATE_GOLDEN=1 and review the diff.
//
// Threading: test-only; single-threaded.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "scenario.h"
#include "timeline.h"

namespace gracecheck::testing {

// A correct graceful shutdown under load: every check passes.
Timeline PassingRun();
// A server that drops in-flight requests, leaves sessions and a child
// behind; its log tail holds a database URL with a password (which no
// report may show).
Timeline FailingRun();
// PassingRun() during which the harness failed itself (two harness errors,
// one with markup characters): an invalid run, verdict "error".
Timeline InvalidRun();
// A run whose target never became ready: nothing judged, verdict "error".
Timeline NotStartedRun();
// The expectations both are judged against.
Expectations FixtureExpectations();

// One run judged against FixtureExpectations(), as an element of the JSON
// report's "runs" read back from its file (NormalizedReport).
nlohmann::json RunJsonOf(const Timeline& tl);
// The JSON report of PassingRun() and FailingRun(), as read back from its
// file, with "(version)" for the gracecheck version (goldens outlive
// releases).
nlohmann::json FixtureReport();

// The JSON report of PassingRun() and InvalidRun(), read back likewise.
nlohmann::json InvalidRunReport();
// The JSON report of PassingRun() and NotStartedRun(), likewise.
nlohmann::json NotStartedReport();

// The contents of reports/testdata/`name`; fails the test when missing.
std::string ReadTestdata(const std::string& name);

// Runs xmllint (GRACECHECK_XMLLINT) with `args` on `document` (written to a
// temp file); returns its exit status and appends what it printed to
// `output`. `--noout` checks well-formedness, `--schema X.xsd` validates.
int Xmllint(const std::string& args, const std::string& document, std::string* output);

// Compares `actual` with reports/testdata/`name`; with
// GRACECHECK_UPDATE_GOLDEN set, rewrites the file instead.
void ExpectGolden(const std::string& name, const std::string& actual);

}  // namespace gracecheck::testing
