#include "timeline_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <optional>
#include <utility>

#include "figures.h"
#include "markup.h"

namespace gracecheck {

namespace {

// Geometry, in SVG user units.
constexpr double kWidth = 1200;
constexpr double kLeft = 64;  // room for the y labels
constexpr double kRight = 16;
constexpr double kPlotWidth = kWidth - kLeft - kRight;
constexpr double kPanelTitle = 17;  // title line above each panel
constexpr double kPanelGap = 10;
constexpr double kLaneRow = 14;  // one row of marker labels
constexpr int kLaneRows = 6;     // at most
// About the width of a character at 11px (regular, bold), for layout.
constexpr double kCharWidth = 6.1;
constexpr double kBoldCharWidth = 7.0;

constexpr const char* kInFlightFill = "#9fd3cf";
constexpr const char* kInFlightLine = "#2f8f88";
constexpr const char* kThreadsLine = "#3b3b3b";
// One per process of a tree, under the total's line.
constexpr std::array<const char*, 4> kProcessLines = {"#8a5a00", "#2a6f97", "#7b2d8b", "#3d7a3d"};
constexpr const char* kGrid = "#e6e6e6";
constexpr const char* kAxis = "#9a9a9a";
constexpr const char* kMuted = "#666";
constexpr const char* kAfterSignalTint = "#fbf1ef";
// A white outline under text, so that lines crossing it do not hide it.
constexpr const char* kHalo =
    " paint-order=\"stroke\" stroke=\"#fff\" stroke-width=\"3\" stroke-linejoin=\"round\"";

// Database session states, bottom to top in the stack.
struct SessionState {
  const char* label;
  const char* color;
  int DbSample::*count;
};
constexpr std::array<SessionState, 4> kStates = {{
    {"active", "#4e79a7", &DbSample::active},
    {"idle in transaction", "#edc948", &DbSample::idle_in_transaction},
    {"idle", "#a0cbe8", &DbSample::idle},
    {"other", "#bab0ac", &DbSample::other},
}};

std::string F(double v) { return fmt::format("{:.1f}", v); }

std::string Esc(std::string_view text) { return EscapeXml(text); }

// The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k (rounded up to
// an integer) at or above v; at least 1.
int NiceCeil(int v) {
  if (v <= 1) return 1;
  for (long long decade = 1;; decade *= 10) {
    for (int tenths : {10, 12, 15, 20, 25, 30, 40, 50, 60, 80}) {
      const long long nice = (tenths * decade + 9) / 10;
      if (nice >= v) return static_cast<int>(nice);
    }
  }
}

// "−1.5 s", "0", "+0.25 s": a tick label, with as many decimals as `step`
// needs.
std::string TickLabel(Nanos rel, Nanos step) {
  if (rel == 0) return "0";
  int decimals = 0;
  for (Nanos unit = 1'000'000'000; unit > 1'000'000 && step % unit != 0; unit /= 10) ++decimals;
  const double s = std::fabs(static_cast<double>(rel) / 1e9);
  return fmt::format("{}{:.{}f} s", rel < 0 ? "\u2212" : "+", s, decimals);
}

// "20 ms", "1 s", "0.5 ms": a bucket width for a title.
std::string BucketText(Nanos width) {
  if (width % 1'000'000'000 == 0) return fmt::format("{} s", width / 1'000'000'000);
  if (width % 1'000'000 == 0) return fmt::format("{} ms", width / 1'000'000);
  return fmt::format("{} ms", static_cast<double>(width) / 1e6);
}

Nanos TickStep(Nanos span) {
  static constexpr Nanos kSteps[] = {1, 2, 5, 10, 20, 25, 50};
  for (Nanos decade = 1'000'000;; decade *= 10) {
    for (Nanos step : kSteps) {
      if (span / (step * decade) <= 12) return step * decade;
    }
  }
}

Nanos FloorTo(Nanos v, Nanos step) { return (v / step - (v % step != 0 && v < 0 ? 1 : 0)) * step; }

struct Marker {
  Nanos t = 0;
  std::string label;
  std::string title;
  const char* color = "#000";
  bool dashed = false;
  double width = 1.2;
  int row = 0;
};

std::vector<Marker> Markers(const RunView& run) {
  std::vector<Marker> m;
  if (run.ready != kNever) {
    m.push_back({run.ready, "ready",
                 fmt::format("ready at {}: the readiness probe answered", run.Moment(run.ready)),
                 "#2e7d32"});
  }
  for (const FaultRecord& f : run.faults) {
    if (f.delivered == kNever) continue;
    std::string title =
        fmt::format("{} delivered at {} (scheduled {}, lag {})", f.name, run.Moment(f.delivered),
                    run.Moment(f.scheduled), FormatMillis(f.lag()));
    m.push_back({f.delivered, f.name, title, "#c62828", false, 2.2});
  }
  if (run.first_refused != kNever) {
    m.push_back({run.first_refused, "listener closed",
                 fmt::format("listener closed: the first refused connection at {}",
                             run.Moment(run.first_refused)),
                 "#7a7a7a", true});
  }
  if (run.last_response != kNever) {
    m.push_back({run.last_response, "last response",
                 fmt::format("the last complete response at {}", run.Moment(run.last_response)),
                 "#1f5fa8", true});
  }
  // Shown only when the pool began closing well before it was gone (more
  // than 5 ms): the story of a pool closed under requests in flight.
  if (run.db_pool_closing != kNever &&
      (run.db_pool_closed == kNever || run.db_pool_closed - run.db_pool_closing > 5'000'000)) {
    m.push_back({run.db_pool_closing, "DB pool closing",
                 fmt::format("DB pool began closing: the target closed its first session at {}",
                             run.Moment(run.db_pool_closing)),
                 "#ab47bc", true});
  }
  if (run.db_pool_closed != kNever) {
    m.push_back({run.db_pool_closed, "DB pool closed",
                 fmt::format("DB pool closed: no session of the run's database from the sample "
                             "at {} on",
                             run.Moment(run.db_pool_closed)),
                 "#7b1fa2", true});
  }
  if (run.exited != kNever) {
    const std::string status = run.exit_status.empty() ? "exit" : run.exit_status;
    m.push_back({run.exited, status, fmt::format("{} at {}", status, run.Moment(run.exited)),
                 "#111", false, 1.6});
  }
  std::stable_sort(m.begin(), m.end(), [](const Marker& a, const Marker& b) { return a.t < b.t; });
  return m;
}

class Chart {
 public:
  Chart(const RunView& run, const ChartFrame& frame)
      : run_(run), frame_(frame), anchor_(ChartAnchor(run)) {}

  std::string Render() {
    Legend();
    std::vector<Marker> markers = Markers(run_);
    const double lane_top = y_;
    const int rows = LayOutMarkers(&markers);
    y_ += rows * kLaneRow + 4;
    const double panels_top = y_;

    const Nanos bucket = run_.requests.bucket;
    const std::string per = bucket > 0 ? " per " + BucketText(bucket) : "";
    const Panel started = NextPanel("requests started" + per + ", by outcome", 104);
    const Panel finished = NextPanel("requests finished" + per + ", by outcome", 104);
    const Panel in_flight = NextPanel("requests in flight (most at once" + per + ")", 56);
    const Panel sessions = NextPanel("DB sessions of the run's database, by state", 76);
    const Panel threads = NextPanel("threads of the target", 56);
    const double panels_bottom = y_ - kPanelGap;

    if (run_.first_signal != kNever) {
      const double x = X(run_.first_signal);
      Add("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>\n", F(x), F(panels_top),
          F(kLeft + kPlotWidth - x), F(panels_bottom - panels_top), kAfterSignalTint);
    }
    Titles();
    for (const Panel* p : {&started, &finished, &in_flight, &sessions, &threads}) Frame(*p);

    if (run_.has_request_series) {
      Bars(started, /*finished=*/false);
      Bars(finished, /*finished=*/true);
      InFlight(in_flight);
    } else {
      for (const Panel* p : {&started, &finished, &in_flight}) {
        Add("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">no request series in this "
            "report (written by an older gracecheck)</text>\n",
            F(kLeft + kPlotWidth / 2), F(p->top + p->height / 2 + 4), kMuted);
      }
    }
    Sessions(sessions);
    Threads(threads);
    XAxis(panels_bottom);
    // Hover targets: markers last, so that they win over the buckets and
    // samples they cross.
    if (run_.has_request_series) BucketHits(started.top, in_flight.top + in_flight.height);
    SampleHits(sessions, threads);
    DrawMarkers(markers, lane_top, panels_bottom);

    std::string svg = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" viewBox=\"0 0 {} {}\" "
        "width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"{}\" font-family=\"system-ui, "
        "-apple-system, 'Segoe UI', 'DejaVu Sans', Arial, sans-serif\" font-size=\"11\">\n",
        kWidth, F(y_), kWidth, F(y_), EscapeXml("timeline of " + RunTitle(run_), true));
    svg += out_;
    svg += "</svg>\n";
    return svg;
  }

 private:
  struct Panel {
    double top = 0;
    double height = 0;
    double bottom() const { return top + height; }
  };

  template <typename... Args>
  void Add(fmt::format_string<Args...> f, Args&&... args) {
    fmt::format_to(std::back_inserter(out_), f, std::forward<Args>(args)...);
  }

  double X(Nanos t) const {
    const double span = static_cast<double>(std::max<Nanos>(1, frame_.to - frame_.from));
    const double x = kLeft + static_cast<double>(t - anchor_ - frame_.from) / span * kPlotWidth;
    return std::clamp(x, kLeft, kLeft + kPlotWidth);
  }

  static double Y(const Panel& p, double value, int max) {
    return p.bottom() - std::min(value, static_cast<double>(max)) / max * p.height;
  }

  // Lays out the next panel below the last; its title is drawn by Titles().
  Panel NextPanel(const std::string& title, double height) {
    y_ += kPanelTitle;
    titles_.emplace_back(y_ - 5, title);
    Panel p{y_, height};
    y_ += height + kPanelGap;
    return p;
  }

  void Titles() {
    for (const auto& [y, title] : titles_) {
      Add("<text x=\"{}\" y=\"{}\" font-weight=\"600\" fill=\"#333\"{}>{}</text>\n", F(kLeft), F(y),
          kHalo, Esc(title));
    }
  }

  // Grid lines at the time ticks and at half and full scale; the y labels.
  void Frame(const Panel& p) {
    const Nanos step = TickStep(frame_.to - frame_.from);
    for (Nanos rel = FloorTo(frame_.from, step); rel <= frame_.to; rel += step) {
      if (rel < frame_.from) continue;
      const double x = X(anchor_ + rel);
      Add("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"{3}\"/>\n", F(x), F(p.top),
          F(p.bottom()), rel == 0 ? "#c9c9c9" : kGrid);
    }
    Add("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"{3}\"/>\n", F(kLeft), F(p.top),
        F(kLeft + kPlotWidth), kGrid);
    Add("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"{3}\" stroke-dasharray=\"2 "
        "3\"/>\n",
        F(kLeft), F(p.top + p.height / 2), F(kLeft + kPlotWidth), kGrid);
    Add("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"{3}\"/>\n", F(kLeft),
        F(p.bottom()), F(kLeft + kPlotWidth), kAxis);
  }

  void YLabels(const Panel& p, int max) {
    auto label = [&](double y, int value) {
      Add("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{}\">{}</text>\n", F(kLeft - 6),
          F(y + 4), kMuted, value);
    };
    label(p.bottom(), 0);
    if (max % 2 == 0) label(p.top + p.height / 2, max / 2);
    label(p.top, max);
  }

  void Legend() {
    struct Item {
      std::string label;
      const char* color;
      bool line;
    };
    std::vector<Item> items;
    std::array<bool, kOutcomeCount> seen{};
    seen[static_cast<std::size_t>(Outcome::kOk)] = true;
    for (const RequestBucket& b : run_.requests.buckets) {
      for (std::size_t o = 0; o < seen.size(); ++o)
        seen[o] = seen[o] || b.started[o] + b.finished[o] > 0;
    }
    for (std::size_t o = 0; o < seen.size(); ++o) {
      if (seen[o])
        items.push_back(
            {OutcomeName(static_cast<Outcome>(o)), OutcomeColor(static_cast<Outcome>(o)), false});
    }
    items.push_back({"in flight", kInFlightFill, false});
    for (const SessionState& s : kStates) {
      const bool any = std::any_of(run_.db_samples.begin(), run_.db_samples.end(),
                                   [&](const DbSample& d) { return d.*s.count > 0; });
      if (any || s.count == &DbSample::active || s.count == &DbSample::idle) {
        items.push_back({std::string("DB ") + s.label, s.color, false});
      }
    }
    items.push_back(
        {run_.processes.size() > 1 ? "threads (all processes)" : "threads", kThreadsLine, true});
    if (run_.processes.size() > 1) items.push_back({"threads per process", kProcessLines[0], true});

    double x = kLeft;
    y_ = 14;
    for (const Item& item : items) {
      const double w = 16 + static_cast<double>(item.label.size()) * kCharWidth + 14;
      if (x + w > kWidth - kRight) {
        x = kLeft;
        y_ += 16;
      }
      if (item.line) {
        Add("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\"/>\n",
            F(x), F(y_ - 4), F(x + 11), F(y_ - 4), item.color);
      } else {
        Add("<rect x=\"{}\" y=\"{}\" width=\"11\" height=\"11\" fill=\"{}\"/>\n", F(x), F(y_ - 10),
            item.color);
      }
      Add("<text x=\"{}\" y=\"{}\" fill=\"#333\">{}</text>\n", F(x + 16), F(y_), Esc(item.label));
      x += w;
    }
    y_ += 10;
  }

  // A marker's label goes right of its line, or left of it when it would run
  // off the chart's right edge. Each label goes in the first of kLaneRows
  // rows where it does not overlap the previous label; when none is free, in
  // the row that frees up first.
  static double LabelWidth(const Marker& m) {
    return static_cast<double>(m.label.size()) * kBoldCharWidth;
  }
  bool LabelLeft(const Marker& m) const { return X(m.t) + 3 + LabelWidth(m) > kWidth - 2; }

  // Returns the number of rows used (at least 1).
  int LayOutMarkers(std::vector<Marker>* markers) const {
    markers->erase(std::remove_if(markers->begin(), markers->end(),
                                  [&](const Marker& m) {
                                    return m.t - anchor_ < frame_.from || m.t - anchor_ > frame_.to;
                                  }),
                   markers->end());
    std::array<double, kLaneRows> row_end;
    row_end.fill(-1e9);
    int rows = 1;
    for (Marker& m : *markers) {
      const double x = X(m.t);
      const double x0 = LabelLeft(m) ? x - 3 - LabelWidth(m) : x;
      const double x1 = LabelLeft(m) ? x : x + 3 + LabelWidth(m);
      int row = -1;
      for (int r = 0; r < kLaneRows; ++r) {
        if (x0 >= row_end[static_cast<std::size_t>(r)] + 6) {
          row = r;
          break;
        }
      }
      if (row < 0) {
        row = static_cast<int>(std::min_element(row_end.begin(), row_end.end()) - row_end.begin());
      }
      m.row = row;
      row_end[static_cast<std::size_t>(row)] = std::max(row_end[static_cast<std::size_t>(row)], x1);
      rows = std::max(rows, row + 1);
    }
    return rows;
  }

  void DrawMarkers(const std::vector<Marker>& markers, double lane_top, double bottom) {
    for (const Marker& m : markers) {
      const double x = X(m.t);
      const double label_y = lane_top + kLaneRow * (m.row + 1) - 3;
      const bool left = LabelLeft(m);
      Add("<g class=\"marker\"><title>{}</title>\n", Esc(m.title));
      Add("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"{3}\" "
          "stroke-width=\"{4}\"{5}/>\n",
          F(x), F(label_y - 9), F(bottom), m.color, F(m.width),
          m.dashed ? " stroke-dasharray=\"5 3\"" : "");
      // A wide invisible line, so that the thin one is easy to hover.
      Add("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#000\" stroke-opacity=\"0\" "
          "stroke-width=\"9\"/>\n",
          F(x), F(label_y - 9), F(bottom));
      Add("<text x=\"{}\" y=\"{}\" fill=\"{}\" font-weight=\"600\"{}{}>{}</text></g>\n",
          F(left ? x - 3 : x + 3), F(label_y), m.color, left ? " text-anchor=\"end\"" : "", kHalo,
          Esc(m.label));
    }
  }

  void Bars(const Panel& p, bool finished) {
    YLabels(p, frame_.requests_max);
    const Nanos width = run_.requests.bucket;
    for (const RequestBucket& b : run_.requests.buckets) {
      const double x0 = X(b.t);
      const double x1 = X(b.t + width);
      if (x1 - x0 < 0.5) continue;  // outside the frame
      const double w = std::max(0.5, x1 - x0 - (x1 - x0 > 4 ? 1 : 0));
      double base = 0;
      const std::array<int, kOutcomeCount>& counts = finished ? b.finished : b.started;
      for (std::size_t o = 0; o < counts.size(); ++o) {
        if (counts[o] == 0) continue;
        const double y_top = Y(p, base + counts[o], frame_.requests_max);
        const double y_bottom = Y(p, base, frame_.requests_max);
        Add("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>\n", F(x0), F(y_top),
            F(w), F(std::max(0.5, y_bottom - y_top)), OutcomeColor(static_cast<Outcome>(o)));
        base += counts[o];
      }
    }
  }

  void InFlight(const Panel& p) {
    YLabels(p, frame_.in_flight_max);
    const std::vector<RequestBucket>& buckets = run_.requests.buckets;
    if (buckets.empty()) return;
    std::string line;
    double x_first = -1;
    double x_last = -1;
    for (const RequestBucket& b : buckets) {
      const double x0 = X(b.t);
      const double x1 = X(b.t + run_.requests.bucket);
      if (x1 - x0 < 0.5) continue;  // outside the frame
      const double y = Y(p, b.in_flight_max, frame_.in_flight_max);
      line += fmt::format("{}{},{} L{},{} ", line.empty() ? "M" : "L", F(x0), F(y), F(x1), F(y));
      if (x_first < 0) x_first = x0;
      x_last = x1;
    }
    if (line.empty()) return;
    Add("<path d=\"M{},{} {}L{},{} Z\" fill=\"{}\" fill-opacity=\"0.6\"/>\n", F(x_first),
        F(p.bottom()), "L" + line.substr(1), F(x_last), F(p.bottom()), kInFlightFill);
    Add("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.3\"/>\n", line, kInFlightLine);
  }

  // Where sample i of `times` stops holding: the next sample, or for the
  // last one `last_end` (when later), else one interval on.
  static Nanos SampleEnd(const std::vector<Nanos>& times, std::size_t i, Nanos last_end) {
    if (i + 1 < times.size()) return times[i + 1];
    if (last_end != kNever && last_end > times[i]) return last_end;
    return times[i] + (i > 0 ? times[i] - times[i - 1] : 0);
  }

  void Sessions(const Panel& p) {
    YLabels(p, frame_.sessions_max);
    const std::vector<DbSample>& samples = run_.db_samples;
    if (samples.empty()) return;
    std::vector<Nanos> times;
    for (const DbSample& s : samples) times.push_back(s.t);
    std::vector<int> below(samples.size(), 0);
    for (const SessionState& state : kStates) {
      bool any = false;
      for (const DbSample& s : samples) any = any || s.*state.count > 0;
      if (!any) continue;
      std::string top;
      std::string bottom;
      for (std::size_t i = 0; i < samples.size(); ++i) {
        const double x0 = X(times[i]);
        const double x1 = X(SampleEnd(times, i, kNever));
        const int lower = below[i];
        const int upper = lower + samples[i].*state.count;
        top += fmt::format("L{},{} L{},{} ", F(x0), F(Y(p, upper, frame_.sessions_max)), F(x1),
                           F(Y(p, upper, frame_.sessions_max)));
        bottom.insert(0, fmt::format("L{},{} L{},{} ", F(x1), F(Y(p, lower, frame_.sessions_max)),
                                     F(x0), F(Y(p, lower, frame_.sessions_max))));
        below[i] = upper;
      }
      Add("<path d=\"M{}Z\" fill=\"{}\"/>\n", (top + bottom).substr(1), state.color);
    }
  }

  void Threads(const Panel& p) {
    YLabels(p, frame_.threads_max);
    std::vector<const ProcSample*> alive;
    for (const ProcSample& s : run_.proc_samples) {
      if (s.threads > 0) alive.push_back(&s);
    }
    if (alive.empty()) return;
    std::vector<Nanos> times;
    for (const ProcSample* s : alive) times.push_back(s->t);
    std::string line;
    for (std::size_t i = 0; i < alive.size(); ++i) {
      const double y = Y(p, alive[i]->threads, frame_.threads_max);
      line += fmt::format("{}{},{} L{},{} ", i == 0 ? "M" : "L", F(X(times[i])), F(y),
                          F(X(SampleEnd(times, i, run_.exited))), F(y));
    }
    Add("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\"/>\n", line, kThreadsLine);
    ProcessThreads(p);
  }

  // A tree (a pre-fork server's workers, a wrapper's child): each process's
  // own count as a thin line under the total, its pid and command line as
  // its tooltip; the 8 with the most threads.
  void ProcessThreads(const Panel& p) {
    if (run_.processes.size() < 2) return;
    std::vector<const TreeProcess*> shown;
    for (const TreeProcess& t : run_.processes) {
      if (!t.threads.empty()) shown.push_back(&t);
    }
    auto most = [](const TreeProcess* t) {
      int m = 0;
      for (const auto& [at, n] : t->threads) m = std::max(m, n);
      return m;
    };
    std::stable_sort(shown.begin(), shown.end(),
                     [&](const TreeProcess* a, const TreeProcess* b) { return most(a) > most(b); });
    if (shown.size() > 8) shown.resize(8);
    for (std::size_t k = 0; k < shown.size(); ++k) {
      const TreeProcess& t = *shown[k];
      const Nanos end = t.last_seen == kNever ? t.threads.back().first : t.last_seen;
      std::string line;
      for (std::size_t i = 0; i < t.threads.size(); ++i) {
        const Nanos from = t.threads[i].first;
        const Nanos to = i + 1 < t.threads.size() ? t.threads[i + 1].first : end;
        const double y = Y(p, t.threads[i].second, frame_.threads_max);
        line +=
            fmt::format("{}{},{} L{},{} ", i == 0 ? "M" : "L", F(X(from)), F(y), F(X(to)), F(y));
      }
      Add("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1\" "
          "stroke-dasharray=\"3 2\"><title>{}</title></path>\n",
          line, kProcessLines[k % kProcessLines.size()],
          Esc(fmt::format("pid {}: {}", t.pid, t.command)));
    }
  }

  void XAxis(double bottom) {
    const Nanos step = TickStep(frame_.to - frame_.from);
    for (Nanos rel = FloorTo(frame_.from, step); rel <= frame_.to; rel += step) {
      if (rel < frame_.from) continue;
      const double x = X(anchor_ + rel);
      Add("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"{3}\"/>\n", F(x), F(bottom),
          F(bottom + 4), kAxis);
      Add("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#333\">{}</text>\n", F(x),
          F(bottom + 16), Esc(TickLabel(rel, step)));
    }
    const FaultRecord* first = run_.FirstDeliveredFault();
    const std::string title =
        first ? fmt::format("seconds relative to {} (the first fault)", first->name)
              : std::string("seconds since the run started (no fault was delivered)");
    Add("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>\n",
        F(kLeft + kPlotWidth / 2), F(bottom + 32), kMuted, Esc(title));
    y_ = bottom + 40;
  }

  // Invisible rects over the request panels, one per bucket, carrying its
  // numbers as a tooltip.
  void BucketHits(double top, double bottom) {
    const Nanos width = run_.requests.bucket;
    for (const RequestBucket& b : run_.requests.buckets) {
      const double x0 = X(b.t);
      const double x1 = X(b.t + width);
      if (x1 - x0 < 0.5) continue;  // outside the frame
      auto counts = [](const std::array<int, kOutcomeCount>& c) {
        int total = 0;
        std::string parts;
        for (std::size_t o = 0; o < c.size(); ++o) {
          if (c[o] == 0) continue;
          total += c[o];
          parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", c[o],
                               OutcomeName(static_cast<Outcome>(o)));
        }
        return total == 0 ? std::string("0") : fmt::format("{}: {}", total, parts);
      };
      const std::string title = fmt::format(
          "{} to {}\nstarted {}\nfinished {}\nin flight: at most {}", run_.Moment(b.t),
          run_.Moment(b.t + width), counts(b.started), counts(b.finished), b.in_flight_max);
      Add("<rect class=\"hit\" x=\"{}\" y=\"{}\" width=\"{}\" "
          "height=\"{}\"><title>{}</title></rect>\n",
          F(x0), F(top), F(std::max(0.5, x1 - x0)), F(bottom - top), Esc(title));
    }
  }

  void SampleHits(const Panel& sessions, const Panel& threads) {
    std::vector<Nanos> times;
    for (const DbSample& s : run_.db_samples) times.push_back(s.t);
    for (std::size_t i = 0; i < run_.db_samples.size(); ++i) {
      const DbSample& s = run_.db_samples[i];
      std::string states;
      for (const SessionState& state : kStates) {
        states += fmt::format("{}{} {}", states.empty() ? "" : ", ", s.*state.count, state.label);
      }
      const double x0 = X(s.t);
      const double x1 = X(SampleEnd(times, i, kNever));
      if (x1 - x0 < 0.5) continue;  // outside the frame
      Add("<rect class=\"hit\" x=\"{}\" y=\"{}\" width=\"{}\" "
          "height=\"{}\"><title>{}</title></rect>\n",
          F(x0), F(sessions.top), F(std::max(0.5, x1 - x0)), F(sessions.height),
          Esc(fmt::format("{}: {} DB sessions ({})", run_.Moment(s.t), s.total(), states)));
    }
    times.clear();
    std::vector<const ProcSample*> alive;
    for (const ProcSample& s : run_.proc_samples) {
      if (s.threads > 0) {
        alive.push_back(&s);
        times.push_back(s.t);
      }
    }
    for (std::size_t i = 0; i < alive.size(); ++i) {
      const ProcSample& s = *alive[i];
      const double x0 = X(s.t);
      const double x1 = X(SampleEnd(times, i, run_.exited));
      if (x1 - x0 < 0.5) continue;  // outside the frame
      Add("<rect class=\"hit\" x=\"{}\" y=\"{}\" width=\"{}\" "
          "height=\"{}\"><title>{}</title></rect>\n",
          F(x0), F(threads.top), F(std::max(0.5, x1 - x0)), F(threads.height),
          Esc(fmt::format("{}: {} threads, {} open files, RSS {:.1f} MB", run_.Moment(s.t),
                          s.threads, s.fds, static_cast<double>(s.rss_kb) / 1024)));
    }
  }

  const RunView& run_;
  const ChartFrame& frame_;
  const Nanos anchor_;
  std::string out_;
  std::vector<std::pair<double, std::string>> titles_;  // baseline, text
  double y_ = 0;
};

}  // namespace

const char* OutcomeColor(Outcome o) {
  switch (o) {
    case Outcome::kOk:
      return "#59a14f";
    case Outcome::kHttpError:
      return "#f28e2b";
    case Outcome::kRefused:
      return "#a5adb8";
    case Outcome::kIdleClosed:
      return "#c3b3de";
    case Outcome::kReset:
      return "#e15759";
    case Outcome::kEof:
      return "#9c1d2a";
    case Outcome::kTruncated:
      return "#d37295";
    case Outcome::kTimeout:
      return "#6b4c3b";
    case Outcome::kClientError:
      return "#7f7f7f";
  }
  return "#000";
}

Nanos ChartAnchor(const RunView& run) { return run.first_signal != kNever ? run.first_signal : 0; }

namespace {

// The y scales that fit what the runs show between `from` and `to`
// (relative to each run's anchor).
void FitYScales(const std::vector<RunView>& runs, ChartFrame* f) {
  int requests = 0, in_flight = 0, sessions = 0, threads = 0;
  for (const RunView& r : runs) {
    const Nanos anchor = ChartAnchor(r);
    auto visible = [&](Nanos t, Nanos end) { return end - anchor > f->from && t - anchor < f->to; };
    for (const RequestBucket& b : r.requests.buckets) {
      if (!visible(b.t, b.t + r.requests.bucket)) continue;
      int s = 0, e = 0;
      for (int n : b.started) s += n;
      for (int n : b.finished) e += n;
      requests = std::max({requests, s, e});
      in_flight = std::max(in_flight, b.in_flight_max);
    }
    // A sample holds until the next one: the one before the window shows too.
    for (std::size_t i = 0; i < r.db_samples.size(); ++i) {
      const Nanos end = i + 1 < r.db_samples.size() ? r.db_samples[i + 1].t : r.db_samples[i].t;
      if (visible(r.db_samples[i].t, end)) sessions = std::max(sessions, r.db_samples[i].total());
    }
    for (std::size_t i = 0; i < r.proc_samples.size(); ++i) {
      const Nanos end =
          i + 1 < r.proc_samples.size() ? r.proc_samples[i + 1].t : r.proc_samples[i].t;
      if (visible(r.proc_samples[i].t, end)) threads = std::max(threads, r.proc_samples[i].threads);
    }
  }
  f->requests_max = NiceCeil(requests);
  f->in_flight_max = NiceCeil(in_flight);
  f->sessions_max = NiceCeil(sessions);
  f->threads_max = NiceCeil(threads);
}

}  // namespace

ChartFrame FrameFor(const std::vector<RunView>& runs) {
  ChartFrame f;
  bool any = false;
  Nanos from = 0;
  Nanos to = 0;
  for (const RunView& r : runs) {
    const Nanos anchor = ChartAnchor(r);
    Nanos first = r.spawned != kNever ? r.spawned : 0;
    if (!r.requests.buckets.empty()) first = std::min(first, r.requests.buckets.front().t);
    if (!r.db_samples.empty()) first = std::min(first, r.db_samples.front().t);
    if (!r.proc_samples.empty()) first = std::min(first, r.proc_samples.front().t);
    const Nanos last = std::max(r.LastMoment(), first + 1);
    from = any ? std::min(from, first - anchor) : first - anchor;
    to = any ? std::max(to, last - anchor) : last - anchor;
    any = true;
  }
  // A little room on both sides, so that markers at the ends stay visible.
  const Nanos pad = std::max<Nanos>((to - from) / 50, 1'000'000);
  f.from = from - pad;
  f.to = to + pad;
  FitYScales(runs, &f);
  return f;
}

std::optional<ChartFrame> ShutdownFrame(const ChartFrame& overview,
                                        const std::vector<RunView>& runs) {
  const Nanos after = overview.to;
  if (after <= 0 || overview.from >= 0) return std::nullopt;
  if (after * 10 > (overview.to - overview.from) * 4) return std::nullopt;  // already legible
  ChartFrame zoom = overview;
  zoom.from = -std::max<Nanos>(after * 35 / 100, 1'000'000);
  FitYScales(runs, &zoom);
  return zoom;
}

std::string TimelineSvg(const RunView& run, const ChartFrame& frame) {
  return Chart(run, frame).Render();
}

}  // namespace gracecheck
