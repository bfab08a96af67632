#include "refapi_options.h"

#include <fmt/format.h>

#include <optional>

#include "integer.h"

namespace gracecheck::refapi {

namespace {

constexpr std::size_t kMaxPoolSize = 1000;
constexpr std::size_t kMaxHttpWorkers = 10000;
constexpr std::size_t kMaxWorkerProcesses = 64;

bool ParseCount(std::string_view name, std::string_view text, std::size_t max, std::size_t* out,
                std::string* error) {
  std::optional<long long> value = ParseInteger(text);
  if (!value || *value < 1 || static_cast<unsigned long long>(*value) > max) {
    *error = fmt::format("{} wants a whole number from 1 to {}, not '{}'", name, max, text);
    return false;
  }
  *out = static_cast<std::size_t>(*value);
  return true;
}

bool ParseDurationOption(std::string_view name, std::string_view text, Duration* out,
                         std::string* error) {
  std::string reason;
  std::optional<Duration> d = ParseDuration(text, &reason);
  if (!d) {
    *error = fmt::format("{}: {}", name, reason);
    return false;
  }
  *out = *d;
  return true;
}

// One of two spellings: "NAME wants A or B, not 'X'" otherwise.
template <typename T>
bool ParseChoice(std::string_view name, std::string_view value,
                 const std::pair<std::string_view, T> (&choices)[2], T* out, std::string* error) {
  for (const auto& [spelling, choice] : choices) {
    if (value == spelling) {
      *out = choice;
      return true;
    }
  }
  *error = fmt::format("{} wants {} or {}, not '{}'", name, choices[0].first, choices[1].first,
                       value);
  return false;
}

}  // namespace

bool ParseListenAddress(std::string_view text, ListenAddress* address, std::string* error) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    *error = fmt::format("--listen wants HOST:PORT, not '{}'", text);
    return false;
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    *error = fmt::format("--listen: put an IPv6 host in brackets, e.g. [::1]:8080, not '{}'", text);
    return false;
  }
  std::optional<long long> number = ParseInteger(port);
  if (host.empty() || !number || *number < 0 || *number > 65535) {
    *error = fmt::format("--listen wants HOST:PORT with a port from 0 to 65535, not '{}'", text);
    return false;
  }
  address->host = std::string(host);
  address->port = static_cast<int>(*number);
  return true;
}

std::string FormatHostPort(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

bool ParseOptions(const std::vector<std::string_view>& args, Options* options, std::string* error) {
  Options parsed;
  bool have_db = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "-h" || arg == "--help") {
      parsed.help = true;
      continue;
    }
    if (arg.substr(0, 2) != "--") {
      *error = fmt::format("unexpected argument '{}' (see --help)", arg);
      return false;
    }
    std::string_view name = arg;
    std::optional<std::string_view> value;
    if (std::size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    constexpr std::string_view kKnown[] = {"--listen",        "--db",         "--pool",
                                           "--threads",       "--workers",    "--buggy-workers",
                                           "--drain-timeout", "--lame-duck",  "--exit-code",
                                           "--drain",         "--statements", "--bug"};
    bool known = false;
    for (std::string_view k : kKnown) known = known || name == k;
    if (!known) {
      *error = fmt::format("unknown option '{}' (see --help)", name);
      return false;
    }
    if (!value) {
      if (i + 1 >= args.size()) {
        *error = fmt::format("{} needs a value", name);
        return false;
      }
      value = args[++i];
    }
    bool ok = true;
    if (name == "--listen") {
      ok = ParseListenAddress(*value, &parsed.listen, error);
    } else if (name == "--db") {
      parsed.db_url = std::string(*value);
      have_db = !parsed.db_url.empty();
    } else if (name == "--pool") {
      ok = ParseCount(name, *value, kMaxPoolSize, &parsed.pool_size, error);
    } else if (name == "--threads") {
      ok = ParseCount(name, *value, kMaxHttpWorkers, &parsed.http_workers, error);
    } else if (name == "--workers") {
      ok = ParseCount(name, *value, kMaxWorkerProcesses, &parsed.worker_processes, error);
    } else if (name == "--buggy-workers") {
      ok = ParseCount(name, *value, kMaxWorkerProcesses, &parsed.buggy_workers, error);
    } else if (name == "--drain-timeout") {
      ok = ParseDurationOption(name, *value, &parsed.drain_timeout, error);
    } else if (name == "--lame-duck") {
      ok = ParseDurationOption(name, *value, &parsed.lame_duck, error);
    } else if (name == "--exit-code") {
      std::optional<long long> code = ParseInteger(*value);
      if (!code || *code < 0 || *code > 255) {
        *error = fmt::format("--exit-code wants a whole number from 0 to 255, not '{}'", *value);
        ok = false;
      } else {
        parsed.exit_code = static_cast<int>(*code);
      }
    } else if (name == "--drain") {
      ok = ParseChoice(name, *value,
                       {{"close-idle", DrainStyle::kCloseIdle},
                        {"wait-for-clients", DrainStyle::kWaitForClients}},
                       &parsed.drain, error);
    } else if (name == "--statements") {
      ok = ParseChoice(name, *value,
                       {{"prepared", Statements::kPrepared}, {"inline", Statements::kInline}},
                       &parsed.statements, error);
    } else if (name == "--bug") {
      std::optional<Bug> bug = ParseBug(*value);
      if (bug) {
        parsed.bugs.Add(*bug);
      } else {
        *error = fmt::format("unknown bug '{}' (known: {})", *value, KnownBugNames());
        ok = false;
      }
    }
    if (!ok) return false;
  }
  if (!have_db && !parsed.help) {
    *error = "--db URL is required";
    return false;
  }
  if (parsed.worker_processes == 0) {
    if (parsed.bugs.Has(Bug::kNoForward) || parsed.buggy_workers != 0) {
      *error = fmt::format("{} is for pre-fork mode: add --workers N",
                           parsed.buggy_workers != 0 ? "--buggy-workers" : "--bug=no-forward");
      return false;
    }
  } else if (parsed.bugs.Has(Bug::kSmallBacklog)) {
    *error = "--bug=small-backlog is stock cpp-httplib's own listener: not with --workers";
    return false;
  } else if (parsed.buggy_workers > parsed.worker_processes) {
    *error = fmt::format("--buggy-workers {} is more than --workers {}", parsed.buggy_workers,
                         parsed.worker_processes);
    return false;
  }
  *options = std::move(parsed);
  return true;
}

std::string Usage() {
  std::string usage = R"(usage: refapi --db URL [options]

The reference API server of gracecheck: shuts down gracefully on SIGINT/SIGTERM
(a second signal exits at once with code 1).

  --listen HOST:PORT    address to listen on (default 127.0.0.1:8080; port 0 picks one)
  --db URL              PostgreSQL connection URL (required)
  --pool N              database connections, opened at start (default 8)
  --threads N           HTTP worker threads (per process); each keep-alive connection holds one
                        (default 128)
  --workers N           pre-fork mode: a master binds the listener and forks N worker processes
                        that share it, each with its own --pool; the master forwards SIGINT and
                        SIGTERM to every worker and exits once all have (default: one process)
  --buggy-workers K     with --workers: only the first K workers have the --bug list
                        (default: all of them)
  --drain-timeout D     how long in-flight requests may take after the signal (default 10s)
  --lame-duck D         keep serving for D after the signal while /readyz says 503 (default 0)
  --drain STYLE         close-idle: close idle keep-alive connections at the signal (default);
                        wait-for-clients: leave them open and exit once every client has closed
                        its connection, as Node's server.close() does (a correct server too)
  --statements HOW      prepared: prepare the API's statements on each connection (default);
                        inline: send each as an unnamed statement, as a pooler in transaction
                        mode needs (PgBouncer before 1.21 loses named ones between them)
  --exit-code N         exit with N after a graceful shutdown (default 0; the JVM exits 143
                        after SIGTERM, shells 128+N after signal N)
  --bug NAME            switch on a deliberate shutdown bug (repeatable; see below)
  -h, --help            this text

Bugs, one known shutdown bug each, for proving that gracecheck catches it
(target/README.md says where each is seen and which check catches it):
)";
  for (const BugInfo& info : KnownBugs()) {
    usage += fmt::format("  {:<21} {}\n", info.name, info.summary);
  }
  return usage;
}

}  // namespace gracecheck::refapi
