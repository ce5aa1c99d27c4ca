#!/usr/bin/env bash
# The main job on one machine: installs what is missing, builds, generates a synthetic EEG-fMRI
# recording, and corrects it with the standard pipeline via `neurodag run` (local mode: an
# embedded scheduler and one worker per core). Prints where the output is.
# Usage: deploy/run-example.sh [OUTPUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-out/example}")

deploy/setup.sh
[ -f build/build.ninja ] || meson setup build -Dtests=false >/dev/null
ninja --quiet -C build
nd=build/scheduler/ctl/neurodag

mkdir -p "$out"
"$nd" synth fmri --channels 8 --duration 30 --seed 1 -o "$out"
"$nd" run deploy/examples/fmri-standard.json "$out/recording.edf" -o "$out/corrected.edf" \
  --overwrite --json > "$out/report.json"
echo "corrected recording: $out/corrected.edf"
echo "report (metrics, triggers): $out/report.json"
