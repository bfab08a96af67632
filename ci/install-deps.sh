#!/usr/bin/env bash
# Installs everything gracecheck needs to build and test, from Debian's archive.
# Idempotent: packages already present are not fetched again, and the package
# index is refreshed at most once per invocation (and only when something is
# missing).
#   ci/install-deps.sh               build and test
#   ci/install-deps.sh --screenshot  also a headless browser for
#                                    ci/screenshot-report.sh (not needed to test)
#   ci/install-deps.sh --fuzz        also clang and libFuzzer (ci/fuzz.sh) and
#                                    clang-tidy and clang-format (ci/lint.sh)
#   ci/install-deps.sh --bench       also wrk and nginx (bench/run.sh)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libboost-filesystem1.81-dev   # Boost.Process v2, Asio, Beast
  libcpp-httplib-dev                              # refapi's HTTP server
  libpqxx-dev                                     # refapi's pool, harness probes
  libyaml-cpp-dev                                 # scenario files
  nlohmann-json3-dev                              # JSON reports
  libcli11-dev                                    # command line
  libfmt-dev                                      # formatting
  libgtest-dev                                    # tests
  postgresql-15                                   # server binaries for the embedded cluster
  pgbouncer                                       # target.pooler: a private PgBouncer per run
  util-linux                                      # setpriv (run the cluster unprivileged)
  curl procps                                     # README walkthrough, process checks
  python3-jsonschema python3-yaml                 # scenario JSON Schema test (scenarios/schema_test.py)
  libxml2-utils                                   # xmllint: JUnit output against its XSD, the HTML report's SVG well-formed (reports tests)
  golang-go golang-github-lib-pq-dev              # target/go: the seed article's Go server and go-fixed (GOPATH build, offline)
  openjdk-17-jdk-headless                         # target/examples/JvmServer.java: a JVM target, run from source (exit 143 after SIGTERM)
  python3-aiohttp python3-asyncpg                 # target/examples/asyncpg_server.py: an async pool that closes by refusing
  tmux groff-base                                 # the status line in a real 80-column terminal; the man page rendered
)
case "${1:-}" in
  --screenshot)
    # Headless Chromium renders the HTML report to a PNG (ci/screenshot-report.sh,
    # docs/report.png); DejaVu so that the text looks the same on every machine.
    packages+=(chromium fonts-dejavu-core) ;;
  --fuzz)
    # clang with libFuzzer and its sanitizer runtimes; clang-tidy and
    # clang-format for ci/lint.sh.
    packages+=(clang libclang-rt-14-dev clang-tidy clang-format) ;;
  --bench)
    # wrk: the reference load generator; nginx-light: a static target fast
    # enough that the generators' own cost shows (nginx is run directly with
    # its own config on a loopback port; its service is not used).
    packages+=(wrk nginx-light) ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "ci/install-deps.sh: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "ci/install-deps.sh: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
