#!/usr/bin/env bash
# `neurodag slurm-workers` without a Slurm: the script it writes (--dry-run) is a bash-valid job
# array with every option in place and the arguments quoted; a stand-in sbatch (on PATH) that runs
# the array tasks itself with Slurm's environment shows the job id printed, --wait counting the
# workers by their Slurm job, `neurodag workers` showing JOB_INDEX, and SIGTERM draining them;
# stand-in squeue answers show --wait's two failures (the job ended; the timeout).
# Usage: test-slurm-script.sh NEURODAG NEURODAG-SCHEDULER NEURODAG-WORKER
set -u
ND=$(realpath "$1")
SCHED=$(realpath "$2")
WORKER=$(realpath "$3")

T=$(mktemp -d /tmp/neurodag-slurm-script-XXXXXX)
PIDS=()
failures=0

cleanup() {
	local p i
	[ -f "$T/task-pids" ] && while read -r p; do PIDS+=("$p"); done <"$T/task-pids"
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
		for ((i = 0; i < 50; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ "$failures" = 0 ]; then rm -rf "$T"; else echo "files kept in $T" >&2; fi
}
trap cleanup EXIT

check() {
	local what=$1
	shift
	if "$@"; then echo "ok: $what"; else echo "FAIL: $what" >&2; failures=$((failures + 1)); fi
}

# --- the script
script=$("$ND" slurm-workers -n 3 --partition 8GB --mem 8G --time 1:00:00 --nthreads 2 \
	--cpus-per-worker 3 --sbatch-arg=--qos=long --sbatch-arg="--account=lab x" \
	-s tcp://sched.example.org:8786 --token-file "$T/my token" --worker-arg=--plugin="$T/a b.so" \
	--script-dir "$T/scripts" --dry-run 2>"$T/dry.err")
check "--dry-run writes a script and prints its path" test -f "$script"
check "the script is valid bash" bash -n "$script"
for line in "#SBATCH --array=0-2" "#SBATCH --partition=8GB" "#SBATCH --mem=8G" \
	"#SBATCH --time=1:00:00" "#SBATCH --cpus-per-task=3" "#SBATCH --qos=long" \
	"#SBATCH --account=lab x" "#SBATCH --output=$T/scripts/%x-%A_%a.out"; do
	check "the script has '$line'" grep -qxF -- "$line" "$script"
done
check "the worker runs in the foreground (exec), arguments quoted" grep -qF -- \
	"--scheduler 'tcp://sched.example.org:8786' --nthreads 2 --token-file '$T/my token' '--plugin=$T/a b.so'" \
	"$script"
check "with exec" grep -q "^exec " "$script"
check "no placeholder is left" test -z "$(grep -o '@[A-Z_]*@' "$script")"

printf '#!/bin/bash\n#SBATCH --array=0-@LAST_INDEX@\necho @NO_SUCH_THING@\n' >"$T/bad.sbatch"
"$ND" slurm-workers -n 1 --template "$T/bad.sbatch" --script-dir "$T/scripts" --dry-run \
	>/dev/null 2>"$T/bad.err"
check "an unknown placeholder is an error (exit 2)" test $? = 2
check "naming it" grep -q "unknown placeholder @NO_SUCH_THING@" "$T/bad.err"
"$ND" slurm-workers --script-dir "$T/scripts" --dry-run >/dev/null 2>"$T/no-n.err"
check "-n is required (exit 2)" test $? = 2

# --- a stand-in sbatch that runs the array tasks here, with Slurm's environment
mkdir -p "$T/bin"
cat >"$T/bin/sbatch" <<-EOF
	#!/bin/bash
	# sbatch --parsable SCRIPT: run each array task in the background as Slurm would.
	script=\$2
	last=\$(sed -n 's/^#SBATCH --array=0-//p' "\$script")
	for ((i = 0; i <= last; i++)); do
		SLURM_JOB_ID=\$((4242 + i + 1)) SLURM_ARRAY_JOB_ID=4242 SLURM_ARRAY_TASK_ID=\$i \
			setsid bash "\$script" >"$T/task-\$i.out" 2>&1 </dev/null &
		echo \$! >>"$T/task-pids"
	done
	echo "4242;ndtest"
EOF
cat >"$T/bin/squeue" <<-EOF
	#!/bin/bash
	cat "$T/squeue-answer" 2>/dev/null
EOF
chmod +x "$T/bin/sbatch" "$T/bin/squeue"
export PATH="$T/bin:$PATH"

. "$(dirname "$(realpath "$0")")/free-port.sh"
PORT=$(free_port)
mkdir -p "$T/state"
"$SCHED" --foreground --state-dir "$T/state" --listen "tcp://127.0.0.1:$PORT" --http "" \
	>"$T/scheduler.log" 2>&1 &
PIDS+=($!)
for ((i = 0; i < 100; i++)); do [ -s "$T/state/token" ] && break; sleep 0.05; done
CONN=(-s "tcp://127.0.0.1:$PORT" --token-file "$T/state/token")

printf 'RUNNING|None\n' >"$T/squeue-answer"
job=$("$ND" slurm-workers -n 3 "${CONN[@]}" --script-dir "$T/scripts" --worker-command "$WORKER" \
	--wait --timeout 30 2>"$T/launch.err")
check "slurm-workers prints sbatch's job id" test "$job" = 4242
check "--wait saw all 3 workers" grep -q "3/3 workers registered" "$T/launch.err"
check "a note says loopback works only on this host" grep -q "only works when Slurm runs them on this host" "$T/launch.err"
"$ND" workers "${CONN[@]}" >"$T/workers.txt"
for i in 0 1 2; do
	check "neurodag workers shows 4242_$i" grep -q " 4242_$i\$" "$T/workers.txt"
done

# scancel's SIGTERM: each worker drains, says BYE and exits 0.
while read -r p; do kill -TERM "$p"; done <"$T/task-pids"
ok=1
while read -r p; do
	for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$p" 2>/dev/null && ok=0
done <"$T/task-pids"
check "SIGTERM stops the workers" test $ok = 1
check "each drained and said BYE" test "$(cat "$T"/task-*.out | grep -c 'drained: said BYE')" = 3
rm -f "$T/task-pids"

# --wait's failures: the job ended before its workers arrived; the timeout.
printf '#!/bin/bash\necho 4343\n' >"$T/bin/sbatch"
: >"$T/squeue-answer"
"$ND" slurm-workers -n 2 "${CONN[@]}" --script-dir "$T/scripts" --wait --timeout 30 \
	>/dev/null 2>"$T/ended.err"
check "a Slurm job that ends first fails --wait (exit 1)" test $? = 1
check "naming the logs" grep -q "Slurm job 4343 has ended, but only 0 of 2 workers registered; see their logs: $T/scripts/neurodag-workers-4343_\*.out" "$T/ended.err"
printf 'PENDING|Resources\nPENDING|Resources\n' >"$T/squeue-answer"
"$ND" slurm-workers -n 2 "${CONN[@]}" --script-dir "$T/scripts" --wait --timeout 1 \
	>/dev/null 2>"$T/timeout.err"
check "--wait gives up at --timeout (exit 5)" test $? = 5
check "saying what Slurm reports" grep -q "only 0 of 2 workers registered after 1 s (Slurm job 4343: 0 running, 2 pending (Resources)" "$T/timeout.err"
printf '#!/bin/bash\necho "sbatch: error: invalid partition" >&2\nexit 1\n' >"$T/bin/sbatch"
"$ND" slurm-workers -n 2 "${CONN[@]}" --script-dir "$T/scripts" >/dev/null 2>"$T/refused.err"
check "an sbatch refusal fails (exit 1)" test $? = 1
check "with sbatch's own message and ours" bash -c "grep -q 'invalid partition' '$T/refused.err' && grep -q 'sbatch .* failed (exit 1)' '$T/refused.err'"
"$ND" slurm-workers -n 2 -s "tcp://127.0.0.1:$PORT" --token-file /nonexistent \
	--script-dir "$T/scripts" >/dev/null 2>"$T/token.err"
check "no token: refused before sbatch (exit 3)" test $? = 3

echo "slurm-script test: $failures failures"
[ "$failures" = 0 ]
