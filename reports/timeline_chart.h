// The timeline chart of one run, drawn by gracecheck itself as inline SVG
// (no script, no external resource): requests started and finished per time
// bucket stacked by outcome, requests in flight, database sessions by state
// and the target's thread count, one panel each on a shared time axis, with
// vertical markers for ready, each fault, the listener closed (first refused
// connection), the last response, the database pool closed (last session
// gone) and the exit. Hovering a bucket, a sample or a marker shows its
// numbers (SVG <title>).
//
// Time runs in seconds relative to the run's first fault (its epoch when no
// fault was delivered). Runs drawn with the same ChartFrame share the time
// range and every y scale, so that several runs (one scenario against
// several targets) line up on their signal and compare by eye.
//
// Threading: pure functions of read-only inputs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "report_view.h"

namespace gracecheck {

struct ChartFrame {
  Nanos from = 0;  // x range, relative to each run's first fault (or epoch)
  Nanos to = 0;
  int requests_max = 1;  // y ranges (already rounded to a nice number)
  int in_flight_max = 1;
  int sessions_max = 1;
  int threads_max = 1;
};

// The frame that fits every run.
ChartFrame FrameFor(const std::vector<RunView>& runs);

// A frame for a close-up of the shutdown: from a little before the signal
// to the end of the recording, with y scales fitted to what shows there
// (still shared by the runs). None when the shutdown already takes a good
// part of the overview (or no fault was delivered).
std::optional<ChartFrame> ShutdownFrame(const ChartFrame& overview,
                                        const std::vector<RunView>& runs);

// An <svg> element, well-formed XML, 1200 user units wide (it scales to its
// container).
std::string TimelineSvg(const RunView& run, const ChartFrame& frame);

// The colour of each outcome in the chart: greens for ok, greys for requests
// the server never took (refused, idle_closed), warm reds for drops.
const char* OutcomeColor(Outcome o);

// The instant the run's time axis counts from: its first fault's delivery,
// else its epoch (0).
Nanos ChartAnchor(const RunView& run);

}  // namespace gracecheck
