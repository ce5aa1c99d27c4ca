#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian 12 machine: installs what is missing, checks the
# layout (deploy/check-layout.sh: no circles, layers, folder sizes, long functions), builds, runs
# `meson test`; then the unit tests again under AddressSanitizer/UBSan, and the protocol fuzzer
# for FUZZ_SECONDS (default 60) when clang is present. Usage: deploy/test.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1

deploy/setup.sh --test
deploy/check-layout.sh

build=${BUILD_DIR:-build}
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
meson configure "$build" -Dtests=true >/dev/null  # run-example.sh may have set it up without
ninja --quiet -C "$build"
meson test -C "$build" --print-errorlogs

[ "$quick" = 1 ] && exit 0

# The unit tests again with AddressSanitizer and UBSan (leaks count as failures).
asan=${build}-asan
[ -f "$asan/build.ninja" ] || meson setup "$asan" -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
ninja --quiet -C "$asan"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C "$asan" --suite unit --print-errorlogs

# The protocol decoder under libFuzzer.
if command -v clang >/dev/null 2>&1 && [ -x deploy/fuzz.sh ]; then
  deploy/fuzz.sh "${FUZZ_SECONDS:-60}"
fi
