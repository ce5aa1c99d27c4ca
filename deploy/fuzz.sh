#!/usr/bin/env bash
# Builds the protocol fuzz target with clang (ASan + UBSan + libFuzzer) into build-fuzz and runs it
# for N seconds (default 60) from the seed corpus; prints the executions and exits non-zero on a
# crash, leak or sanitizer report. Usage: deploy/fuzz.sh [SECONDS]
set -euo pipefail

secs="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-fuzz"
cd "$root"

command -v clang >/dev/null || { echo "fuzz.sh: clang is not installed" >&2; exit 2; }
if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" -Dfuzz=true -Db_sanitize=address,undefined >/dev/null
fi
ninja -C "$build" tests/fuzz/fuzz-proto >/dev/null

# Grow a scratch copy of the seeds, so the tracked corpus stays small; keep crash inputs.
work="$(mktemp -d "${TMPDIR:-/tmp}/nd-fuzz.XXXXXX")"
trap 'rm -rf "$work/corpus"' EXIT
mkdir -p "$work/corpus" "$work/artifacts"
cp "$root"/tests/fuzz/corpus/* "$work/corpus/"

log="$work/fuzz.log"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS="detect_leaks=1"
set +e
"$build/tests/fuzz/fuzz-proto" -max_total_time="$secs" -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus" >"$log" 2>&1
rc=$?
set -e

runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")"
echo "fuzz-proto: ${runs:-?} executions (limit ${secs} s, ${rate:-?}/s)"
if [ "$rc" -ne 0 ] || grep -q "runtime error" "$log"; then
  grep -E "ERROR|runtime error|SUMMARY" "$log" | head -20 >&2 || true
  echo "fuzz-proto: FAILED (exit $rc); log and crash inputs kept in $work" >&2
  exit 1
fi
rm -rf "$work"
