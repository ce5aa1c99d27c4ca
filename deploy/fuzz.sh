#!/usr/bin/env bash
# Builds the fuzz targets with clang (ASan + UBSan + libFuzzer) into build-fuzz and runs each from
# its seed corpus: the protocol decoder for N seconds (default 60), the .npy header parser, the
# pipeline validator and the EDF/BDF, BrainVision and EEGLAB readers for N/3 each. Prints the executions; exits non-zero on
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
  tests/fuzz/fuzz-edf tests/fuzz/fuzz-brainvision tests/fuzz/fuzz-eeglab
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS="detect_leaks=1"
status=0

# fuzz_one TARGET CORPUS_DIR SECONDS [LIBFUZZER_FLAGS...]
fuzz_one() {

  local target=$1 seeds=$2 t=$3
  shift 3
  # Grow a scratch copy of the seeds, so the tracked corpus stays small; keep crash inputs.
  local work
  work="$(mktemp -d "${TMPDIR:-/tmp}/nd-fuzz.XXXXXX")"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp "$seeds"/* "$work/corpus/"
  local log="$work/fuzz.log" rc
  set +e
  ASAN_OPTIONS="${FUZZ_ASAN_OPTIONS:-$ASAN_OPTIONS}" \
  "$build/tests/fuzz/$target" -max_total_time="$t" -print_final_stats=1 "$@" \
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
fuzz_one fuzz-brainvision "$root/tests/fuzz/corpus-brainvision" "$(( (secs + 2) / 3 ))"
# libmatio asks for what a damaged .set's sizes claim before it finds the file short (the reader
# bounds the v5 dimensions first, io-eeglab-check.c; other sizes remain): an allocation that
# libc refuses returns NULL to libmatio as it would outside ASan, and a single untouched
# allocation of up to 8 GiB is not a finding; resident memory stays bounded by the usual limit
# (with a smaller quarantine: HDF5, for v7.3 files, frees large blocks at every open).
FUZZ_ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:quarantine_size_mb=64" fuzz_one fuzz-eeglab "$root/tests/fuzz/corpus-eeglab" "$(( (secs + 2) / 3 ))" \
  -malloc_limit_mb=8192 -rss_limit_mb=2048
exit $status
