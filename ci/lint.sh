#!/usr/bin/env bash
# Every C++ file formatted as the checked-in .clang-format says (a file that
# is not fails, named, with the command that fixes it), then clang-tidy over
# every C++ source of the project with the checked-in .clang-tidy; any
# warning fails (WarningsAsErrors). Uses the compile commands of the normal
# build (build/, made here if missing).
#   ci/lint.sh [FILE...]     (default: every non-test .cc under harness/, reports/, target/;
#                             the tests' gtest macros take clang-tidy a minute a file here)
set -euo pipefail
cd "$(dirname "$0")/.."
ci/install-deps.sh --fuzz
mapfile -t sources < <(git ls-files '*.cc' '*.h')
unformatted=()
for f in "${sources[@]}"; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
done
if [ ${#unformatted[@]} -gt 0 ]; then
  printf '%s\n' "${unformatted[@]}" >&2
  echo "ci/lint.sh: ${#unformatted[@]} files are not formatted (clang-format -i FILE…)" >&2
  exit 1
fi
echo "ci/lint.sh: clang-format clean on ${#sources[@]} files"
build=${BUILD_DIR:-build}
[ -f "$build/compile_commands.json" ] ||
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  mapfile -t files < <(git ls-files 'harness/*.cc' 'reports/*.cc' 'target/*.cc' |
                         grep -v -e '^harness/fuzz/' -e '_test\.cc$' -e '_fixture\.cc$')
fi
runner=$(command -v run-clang-tidy || command -v run-clang-tidy-14)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
"$runner" -p "$build" -quiet -j "${JOBS:-$(nproc)}" "${files[@]}" > "$out" 2>&1 || status=$?
grep -v -E '^[0-9]+ warnings? generated|^Suppressed [0-9]+ warnings|^Use -header-filter|^clang-tidy-14 ' "$out" || true
if [ "$status" -ne 0 ]; then
  echo "ci/lint.sh: clang-tidy found problems (above)" >&2
  exit 1
fi
echo "ci/lint.sh: clang-tidy clean on ${#files[@]} files"
