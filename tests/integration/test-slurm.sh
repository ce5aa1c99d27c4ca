#!/usr/bin/env bash
# Workers through a real one-node Slurm: a scheduler on loopback, `neurodag slurm-workers`
# launches 4 workers (a job array), a job completes; scancel in the middle of a second job makes
# the workers drain and leave, the job waits for workers and completes when new ones arrive; with
# a short --worker-wait-timeout a third job fails with the clear error; --wait gives up with a
# clear error when the array cannot start. Exit 77 (skip) when Slurm cannot be set up.
# Usage: test-slurm.sh NEURODAG NEURODAG-SCHEDULER NEURODAG-WORKER
set -u
ND=$(realpath "$1")
SCHED=$(realpath "$2")
WORKER=$(realpath "$3")
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/slurm-cluster.sh
. "$here/slurm-cluster.sh"

T=$(mktemp -d /tmp/neurodag-slurm-test-XXXXXX)
chmod 755 "$T" # munged runs as the munge user and keeps its log and pid file below
SCHED_PIDS=()
failures=0
t0=$(date +%s%N)

cleanup() {
	local p
	slurm_stop
	for p in "${SCHED_PIDS[@]}"; do slurm_stop_pid "$p"; done
	if [ "$failures" = 0 ] && [ "${KEEP_TMP:-0}" != 1 ]; then
		rm -rf "$T"
	else
		echo "logs kept in $T" >&2
	fi
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then echo "ok: $what"; else fail "$what"; fi
}

since() { # seconds since a `date +%s%N` stamp, with one decimal
	local ns=$(($(date +%s%N) - $1))
	echo "$((ns / 1000000000)).$((ns / 100000000 % 10))"
}

# A scheduler in the foreground on loopback: start_scheduler NAME PORT WAIT_TIMEOUT
start_scheduler() {
	local name=$1 port=$2 wait=$3 i
	mkdir -p "$T/$name"
	"$SCHED" --foreground --state-dir "$T/$name" --listen "tcp://127.0.0.1:$port" --http "" \
		--worker-wait-timeout "$wait" --heartbeat-interval 0.5 --worker-ttl 5 \
		>"$T/$name/scheduler.log" 2>&1 &
	SCHED_PIDS+=($!)
	for ((i = 0; i < 100; i++)); do
		[ -s "$T/$name/token" ] && "$ND" status -s "tcp://127.0.0.1:$port" \
			--token-file "$T/$name/token" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "scheduler $name did not start:" >&2
	cat "$T/$name/scheduler.log" >&2
	exit 1
}

# A grid of sleep tasks (the runtime's test ops): grid NAME CHANNELS TRIALS MS
grid() {
	cat >"$T/$1.json" <<-EOF
		{"name": "$1", "input": {"format": "grid", "channels": $2, "trials": $3},
		 "steps": [{"op": "sleep", "ms": $4}], "execution": {"min_workers": 1}}
	EOF
	echo "$T/$1.json"
}

job_field() { # job_field CONN... JOB FIELD (via --json)
	local job=$1 field=$2
	shift 2
	"$ND" status "$job" --json "$@" 2>/dev/null |
		/usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin).get('$field', ''))"
}

launch() { # launch CONN_NAME N EXTRA... : prints the Slurm job id
	local name=$1 n=$2
	shift 2
	"$ND" slurm-workers -n "$n" "${CONN[@]}" --script-dir "$T/$name/slurm" \
		--worker-command "$WORKER" --wait --timeout 60 "$@" 2>>"$T/$name/slurm-workers.err"
}

# --- Slurm
ts=$(date +%s%N)
slurm_start "$T/slurm" 16
echo "ok: Slurm started in $(since "$ts") s ($(sinfo -h -o '%P %D %c %T'))"

# --- 1. four workers through slurm-workers; a job completes
. "$(dirname "$(realpath "$0")")/free-port.sh"
PORT=$(free_port)
start_scheduler main "$PORT" 30
CONN=(-s "tcp://127.0.0.1:$PORT" --token-file "$T/main/token")
job_a=$("$ND" submit "$(grid a 8 4 100)" "${CONN[@]}")
check "job A is accepted" test -n "$job_a"
check "job A waits for workers" test "$(job_field "$job_a" state "${CONN[@]}")" = waiting
slurm1=$(launch main 4)
check "slurm-workers prints the Slurm job id ($slurm1)" test -n "$slurm1" -a "$slurm1" -gt 0
script=$(ls "$T/main/slurm/"*.sbatch 2>/dev/null | head -1)
check "the script is a job array of 4 running neurodag-worker" \
	grep -q -- "--array=0-3" "$script"
check "the script execs the worker in the foreground" grep -q "^exec $WORKER" "$script"
"$ND" workers "${CONN[@]}" >"$T/main/workers-1.txt"
check "neurodag workers shows the 4 array tasks" \
	test "$(grep -cE " ${slurm1}_[0-3]\$" "$T/main/workers-1.txt")" = 4
"$ND" wait "$job_a" --timeout 60 "${CONN[@]}" 2>"$T/main/wait-a.err"
check "job A completes (exit 0)" test $? = 0
check "job A did all 32 tasks" test "$(job_field "$job_a" done "${CONN[@]}")" = 32

# --- 2. scancel the workers in the middle of job B; B waits, then completes with new workers
job_b=$("$ND" submit "$(grid b 8 10 300)" "${CONN[@]}")
for ((i = 0; i < 200; i++)); do
	d=$(job_field "$job_b" done "${CONN[@]}")
	[ "${d:-0}" -ge 8 ] && break
	sleep 0.1
done
pids=$("$ND" workers --json "${CONN[@]}" |
	/usr/bin/python3 -c "import json,sys; print(' '.join(str(w['pid']) for w in json.load(sys.stdin)))")
scancel "$slurm1"
check "the cancelled array leaves the queue" slurm_wait_gone "$slurm1" 30
alive=0
for p in $pids; do slurm_alive "$p" && alive=1; done
check "the cancelled workers have exited" test "$alive" = 0
byes=$(cat "$T/main/slurm/"*"-${slurm1}_"*.out 2>/dev/null | grep -c "drained: said BYE")
check "each worker drained and said BYE on SIGTERM ($byes/4)" test "$byes" = 4
check "no worker was killed (SIGKILL after KillWait)" \
	test -z "$(grep -l "KILL\|Killed" "$T/main/slurm/"*"-${slurm1}_"*.out 2>/dev/null)"
for ((i = 0; i < 50; i++)); do
	[ "$(job_field "$job_b" state "${CONN[@]}")" = waiting ] && break
	sleep 0.1
done
check "job B waits for workers" test "$(job_field "$job_b" state "${CONN[@]}")" = waiting
check "the waiting message names the minimum and the timeout" \
	grep -q "waiting for at least 1 workers (0 connected), timeout after 30 s" \
	<(job_field "$job_b" waiting "${CONN[@]}")
check "job B is unfinished ($(job_field "$job_b" done "${CONN[@]}")/80)" \
	test "$(job_field "$job_b" done "${CONN[@]}")" -lt 80
slurm2=$(launch main 4)
check "new workers through slurm-workers ($slurm2)" test -n "$slurm2"
"$ND" wait "$job_b" --timeout 90 "${CONN[@]}" 2>"$T/main/wait-b.err"
check "job B completes with the new workers (exit 0)" test $? = 0
check "job B did all 80 tasks" test "$(job_field "$job_b" done "${CONN[@]}")" = 80
check "job B failed no task" test "$(job_field "$job_b" failed "${CONN[@]}")" = 0
scancel "$slurm2"
slurm_wait_gone "$slurm2" 30

# --- 3. a short worker-wait timeout: job C fails with the clear error after scancel
start_scheduler short "$((PORT + 1))" 3
CONN=(-s "tcp://127.0.0.1:$((PORT + 1))" --token-file "$T/short/token")
slurm3=$(launch short 2)
job_c=$("$ND" submit "$(grid c 4 20 300)" "${CONN[@]}")
for ((i = 0; i < 200; i++)); do
	d=$(job_field "$job_c" done "${CONN[@]}")
	[ "${d:-0}" -ge 2 ] && break
	sleep 0.1
done
scancel "$slurm3"
"$ND" wait "$job_c" --timeout 60 "${CONN[@]}" 2>"$T/short/wait-c.err"
rc=$?
check "job C fails at the worker-wait timeout (exit 1, got $rc)" test "$rc" = 1
check "with the clear error" grep -q "no worker registered within 3 s" "$T/short/wait-c.err"
slurm_wait_gone "$slurm3" 30

# --- 4. slurm-workers --wait gives up clearly when the array cannot start
out=$("$ND" slurm-workers -n 2 "${CONN[@]}" --script-dir "$T/short/slurm" \
	--worker-command "$WORKER" --sbatch-arg=--begin=now+1hour --wait --timeout 2 2>&1)
rc=$?
check "slurm-workers --wait times out (exit 5, got $rc)" test "$rc" = 5
check "naming what registered and what Slurm says" \
	grep -q "only 0 of 2 workers registered after 2 s (Slurm job [0-9]*: 0 running, 2 pending (BeginTime)" \
	<<<"$out"
"$ND" slurm-workers -n 1 "${CONN[@]}" --script-dir "$T/short/slurm" --partition nosuch \
	>/dev/null 2>"$T/short/bad-partition.err"
rc=$?
check "an sbatch refusal is an error (exit 1, got $rc)" test "$rc" = 1
check "naming sbatch" grep -q "sbatch .* failed" "$T/short/bad-partition.err"

echo "slurm test: $failures failures, $(since "$t0") s"
[ "$failures" = 0 ]
