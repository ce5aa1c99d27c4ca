#!/bin/sh
# Spectral benchmark (not a test): 500 trials × 1000 samples × 32 channels at 1000 Hz, end to end
# with `neurodag run` (reading the .spy input, computing, writing the .spy output): mtmfft hann
# foilim [1, 150] and multitaper tapsmofrq 4 (7 tapers), default grid and chan_per_task 8, on
# 2 local workers and serially; the FFTW-only floor; the reference toolbox's figures from
# specs/trial-ops.md (Syncopy is not installed here). Prints one table of medians.
#
# usage: tests/bench/bench-spectral.sh [BUILD_DIR] [RUNS]   (defaults: build, 5)
set -eu

build=${1:-build}
runs=${2:-5}
nd="$build/scheduler/ctl/neurodag"
floor="$build/tests/bench/bench-fftw-floor"
[ -x "$nd" ] || { echo "no $nd: build first (ninja -C $build)" >&2; exit 2; }
tmp=$(mktemp -d /tmp/neurodag-bench-spectral-XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

"$nd" synth white_noise --trials 500 --samples 1000 --channels 32 --samplerate 1000 \
	--seed 42 -o "$tmp/wn.spy" >/dev/null

# pipeline NAME STEP [EXECUTION]
pipeline() {
	printf '{"name": "%s", "input": {"format": "spy", "path": "%s"}, "steps": [%s],
	 "output": {"format": "spy", "path": "%s"}%s}\n' "$1" "$tmp/wn.spy" "$2" \
		"$tmp/$1-out.spy" "${3:+, \"execution\": $3}" >"$tmp/$1.json"
}
hann='{"op": "freqanalysis", "method": "mtmfft", "taper": "hann", "foilim": [1, 150]}'
mt='{"op": "freqanalysis", "method": "mtmfft", "tapsmofrq": 4, "foilim": [1, 150]}'
pipeline hann "$hann"
pipeline hann-cpt8 "$hann" '{"chan_per_task": 8}'
pipeline mt "$mt"
pipeline mt-cpt8 "$mt" '{"chan_per_task": 8}'

now() { date +%s.%N; }
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# measure NAME MODE (local | serial): "wall job cpu tasks", medians over $runs runs
measure() {
	: >"$tmp/w"; : >"$tmp/j"; : >"$tmp/c"
	if [ "$2" = serial ]; then mode=--serial; else mode="--workers 2"; fi
	i=0
	while [ "$i" -lt "$runs" ]; do
		t0=$(now)
		# shellcheck disable=SC2086 # $mode is two words on purpose
		/usr/bin/time -f '%U %S' -o "$tmp/time" "$nd" run $mode -q --json --overwrite \
			"$tmp/$1.json" >"$tmp/out.json" 2>"$tmp/err" ||
			{ cat "$tmp/err" >&2; exit 1; }
		t1=$(now)
		echo "$t1 - $t0" | bc -l >>"$tmp/w"
		awk '{print $1 + $2}' "$tmp/time" >>"$tmp/c"
		/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1]));
print(d["elapsed_s"], d["tasks"])' "$tmp/out.json" >>"$tmp/j"
		i=$((i + 1))
	done
	printf '%s %s %s %s\n' "$(median <"$tmp/w")" "$(cut -d' ' -f1 "$tmp/j" | median)" \
		"$(median <"$tmp/c")" "$(head -1 "$tmp/j" | cut -d' ' -f2)"
}

printf 'neurodag spectral benchmark: 500 trials x 1000 samples x 32 channels, fs 1000 Hz\n'
printf 'host: %s cores, load average %s; medians of %s runs\n\n' "$(nproc)" \
	"$(cut -d' ' -f1-3 /proc/loadavg)" "$runs"
printf '%-28s %8s %8s %8s %6s   %s\n' "case" "wall s" "job s" "cpu s" "tasks" \
	"reference (Syncopy, spec)"
set -- "hann" "hann, 2 workers" "0.55 s seq; 7-9 s on 2 Dask workers" \
	"hann-cpt8" "hann, chan_per_task 8" "27-47 s with chan_per_worker 8" \
	"mt" "multitaper, 2 workers" "3.9 s seq; 10-14 s on 2 Dask workers" \
	"mt-cpt8" "multitaper, chan_per_task 8" "-"
while [ $# -gt 0 ]; do
	r=$(measure "$1" local)
	printf '%-28s %8.3f %8.3f %8.3f %6s   %s\n' "$2" $r "$3"
	shift 3
done
for c in hann mt; do
	r=$(measure "$c" serial)
	printf '%-28s %8.3f %8.3f %8.3f %6s   %s\n' "$c, --serial" $r \
		"$([ "$c" = hann ] && echo '0.55 s sequential' || echo '3.9 s sequential')"
done
if [ -x "$floor" ]; then
	"$floor" | while read -r name secs; do
		printf '%-28s %8s %8s %8.3f %6s   %s\n' "FFTW only, $name" "-" "-" "$secs" "-" \
			"one thread; /2 on 2 workers"
	done
fi
printf '\nwall: the whole `neurodag run` process (start-up, submit with the input checksum,\n'
printf 'tasks, output, teardown); job: submit to done as the scheduler reports it; cpu: user +\n'
printf 'system of all processes. Goal: <= 0.3 s hann, <= 0.6 s multitaper end to end.\n'
