#!/usr/bin/env bash
# deploy/systemd: `systemd-analyze verify` accepts the scheduler unit and an instance of the
# worker template (copies whose ExecStart points at the build tree, since verify checks that the
# programs exist), the units carry the hardening the issue asks for, and the example
# configuration's scheduler flags pass `neurodag-scheduler --check`. Exit 77 without
# systemd-analyze. Usage: test-systemd.sh DEPLOY_SYSTEMD_DIR NEURODAG-SCHEDULER NEURODAG-WORKER
set -u
SRC=$(realpath "$1")
SCHED=$(realpath "$2")
WORKER=$(realpath "$3")
command -v systemd-analyze >/dev/null 2>&1 || { echo "SKIP: no systemd-analyze" >&2; exit 77; }

T=$(mktemp -d /tmp/neurodag-systemd-test-XXXXXX)
failures=0
trap '[ "$failures" = 0 ] && rm -rf "$T" || echo "files kept in $T" >&2' EXIT

check() {
	local what=$1
	shift
	if "$@"; then echo "ok: $what"; else echo "FAIL: $what" >&2; failures=$((failures + 1)); fi
}

for u in neurodag-scheduler.service neurodag-worker@.service; do
	sed -e "s|/usr/bin/neurodag-scheduler|$SCHED|g" -e "s|/usr/bin/neurodag-worker|$WORKER|g" \
		"$SRC/$u" >"$T/$u"
done
ln -s neurodag-worker@.service "$T/neurodag-worker@1.service"

verify() {
	(cd "$T" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$@") \
		>"$T/verify.out" 2>&1
	local rc=$?
	# Lines about units these files do not define (the host's own) are not ours to judge.
	if [ $rc != 0 ] || grep -E "neurodag" "$T/verify.out" >&2; then
		cat "$T/verify.out" >&2
		return 1
	fi
	return 0
}
check "systemd-analyze verify accepts neurodag-scheduler.service" \
	verify "$T/neurodag-scheduler.service"
check "systemd-analyze verify accepts neurodag-worker@1.service" \
	verify "$T/neurodag-worker@1.service"

# verify must be able to fail: a unit with a bad directive is refused.
sed 's/^ProtectSystem=strict/ProtectSystem=bogus/' "$T/neurodag-scheduler.service" \
	>"$T/neurodag-broken.service"
verify_fails() { ! verify "$@" 2>/dev/null; }
check "systemd-analyze verify refuses a copy with a bad directive" \
	verify_fails "$T/neurodag-broken.service"
rm -f "$T/neurodag-broken.service"

has() { grep -q "^$2\$" "$SRC/$1"; }
for d in "ExecStartPre=/usr/bin/neurodag-scheduler --check \$NEURODAG_SCHEDULER_ARGS" \
	"StateDirectory=neurodag" "NoNewPrivileges=yes" "ProtectSystem=strict" "PrivateTmp=yes" \
	"ProtectHome=yes"; do
	check "the scheduler unit has $d" has neurodag-scheduler.service "$d"
done
check "the scheduler runs in the foreground" grep -q "^ExecStart=.*--foreground" \
	"$SRC/neurodag-scheduler.service"
check "the worker unit is stopped by SIGTERM (drain)" has neurodag-worker@.service \
	"KillSignal=SIGTERM"
check "the worker unit has NoNewPrivileges" has neurodag-worker@.service "NoNewPrivileges=yes"

# The example configuration: the scheduler's flags pass --check (with test certificates in place
# of /etc/neurodag's, and a temporary state dir).
if command -v openssl >/dev/null 2>&1; then
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/scheduler.key" -out "$T/scheduler.pem" \
		-days 1 -subj "/CN=localhost" >/dev/null 2>&1
	args=$(. "$SRC/scheduler.conf" && echo "$NEURODAG_SCHEDULER_ARGS")
	args=${args//\/etc\/neurodag/$T}
	# shellcheck disable=SC2086
	NEURODAG_STATE_DIR="$T/state" "$SCHED" --check $args >"$T/check.out" 2>&1
	check "the example scheduler.conf passes neurodag-scheduler --check" \
		grep -q "configuration OK" "$T/check.out"
fi
worker_args=$(. "$SRC/worker.conf" && echo "$NEURODAG_WORKER_ARGS")
check "the example worker.conf names a scheduler and a token file" \
	bash -c "[[ '$worker_args' == *--scheduler* && '$worker_args' == *--token-file* ]]"

echo "systemd test: $failures failures"
[ "$failures" = 0 ]
