#!/usr/bin/env bash
# Builds the fuzz targets with clang (ASan + UBSan + libFuzzer) into build-fuzz and runs each from
# its seed corpus: the protocol decoder for N seconds (default 60), the .npy header parser, the
# pipeline validator and the EDF/BDF reader for N/3 each. Prints the executions; exits non-zero on
# a crash, leak or sanitizer report. Usage: deploy/fuzz.sh [SECONDS]
set -euo pipefail

secs="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-fuzz"
cd "$root"

command -v clang >/dev/null || { echo "fuzz.sh: clang is not installed" >&2; exit 2; }
if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" -Dfuzz=true -Db_sanitize=address,undefined >/dev/null
fi
ninja --quiet -C "$build" tests/fuzz/fuzz-proto tests/fuzz/fuzz-npy tests/fuzz/fuzz-pipeline \
  tests/fuzz/fuzz-edf
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS="detect_leaks=1"
status=0

# fuzz_one TARGET CORPUS_DIR SECONDS
fuzz_one() {

  local target=$1 seeds=$2 t=$3
  # Grow a scratch copy of the seeds, so the tracked corpus stays small; keep crash inputs.
  local work
  work="$(mktemp -d "${TMPDIR:-/tmp}/nd-fuzz.XXXXXX")"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp "$seeds"/* "$work/corpus/"
  local log="$work/fuzz.log" rc
  set +e
  "$build/tests/fuzz/$target" -max_total_time="$t" -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" >"$log" 2>&1
  rc=$?
  set -e
  local runs rate
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")"
  echo "$target: ${runs:-?} executions (limit ${t} s, ${rate:-?}/s)"
  if [ "$rc" -ne 0 ] || grep -q "runtime error" "$log"; then
    grep -E "ERROR|runtime error|SUMMARY" "$log" | head -20 >&2 || true
    echo "$target: FAILED (exit $rc); log and crash inputs kept in $work" >&2
    status=1
    return
  fi
  rm -rf "$work"
}

fuzz_one fuzz-proto "$root/tests/fuzz/corpus" "$secs"
fuzz_one fuzz-npy "$root/tests/fuzz/corpus-npy" "$(( (secs + 2) / 3 ))"
fuzz_one fuzz-pipeline "$root/tests/fuzz/corpus-pipeline" "$(( (secs + 2) / 3 ))"
fuzz_one fuzz-edf "$root/tests/fuzz/corpus-edf" "$(( (secs + 2) / 3 ))"
exit $status
