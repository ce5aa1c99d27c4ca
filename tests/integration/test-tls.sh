#!/usr/bin/env bash
# tls+tcp:// end to end with certificates made by the openssl command line: the right CA works
# (a job completes over TLS), a wrong CA or no CA is refused with a clear error (exit 3 from the
# CLI, a log line from the worker), an IP address needs --tls-server-name, and a scheduler given
# --tls-ca requires client certificates. Exit 77 without openssl.
# Usage: test-tls.sh NEURODAG NEURODAG-SCHEDULER NEURODAG-WORKER
set -u
ND=$(realpath "$1")
SCHED=$(realpath "$2")
WORKER=$(realpath "$3")
command -v openssl >/dev/null 2>&1 || { echo "SKIP: no openssl" >&2; exit 77; }

T=$(mktemp -d /tmp/neurodag-tls-test-XXXXXX)
PIDS=()
failures=0

cleanup() {
	local p i
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
		for ((i = 0; i < 50; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ "$failures" = 0 ]; then rm -rf "$T"; else echo "logs kept in $T" >&2; fi
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

check() {
	local what=$1
	shift
	if "$@"; then echo "ok: $what"; else fail "$what"; fi
}

# --- certificates: a CA, a scheduler certificate for DNS:localhost, a client certificate, and
# an unrelated CA.
cd "$T" || exit 1
ossl() { openssl "$@" >/dev/null 2>&1 || { echo "openssl $1 failed" >&2; exit 1; }; }
ossl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=neurodag test CA"
ossl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other-ca.pem -days 2 -subj "/CN=other CA"
for who in server client; do
	ossl req -newkey rsa:2048 -nodes -keyout $who.key -out $who.csr -subj "/CN=localhost"
	printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=%s\n' \
		"$([ $who = server ] && echo serverAuth || echo clientAuth)" >$who.ext
	ossl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $who.pem -days 2 \
		-extfile $who.ext
done
echo "ok: certificates made by openssl"

. "$(dirname "$(realpath "$0")")/free-port.sh"
PORT=$(free_port)
URL="tls+tcp://127.0.0.1:$PORT"

# start_scheduler DIR URLVAR ARGS...: listens on ${!URLVAR}; if another process took that port
# meanwhile, tries again on a fresh port and updates URLVAR.
start_scheduler() {
	local dir=$1 var=$2 i try
	shift 2
	mkdir -p "$dir"
	for ((try = 0; try < 5; try++)); do
		"$SCHED" --foreground --state-dir "$dir" --listen "${!var}" --http "" "$@" \
			>"$dir/scheduler.log" 2>&1 &
		PIDS+=($!)
		for ((i = 0; i < 100; i++)); do
			grep -q "listening on" "$dir/scheduler.log" 2>/dev/null && return 0
			grep -q "Address in use" "$dir/scheduler.log" 2>/dev/null && break
			sleep 0.05
		done
		grep -q "Address in use" "$dir/scheduler.log" 2>/dev/null || break
		printf -v "$var" 'tls+tcp://127.0.0.1:%s' "$(free_port)"
	done
	cat "$dir/scheduler.log" >&2
	exit 1
}

"$SCHED" --check --state-dir "$T/check" --listen "$URL" >/dev/null 2>"$T/check.err"
check "a TLS listener without a certificate is refused (exit 1)" test $? = 1
check "naming the flags" grep -q "needs --tls-cert and --tls-key" "$T/check.err"

start_scheduler "$T/s" URL --tls-cert server.pem --tls-key server.key
TOK=(--token-file "$T/s/token")
GOOD=(-s "$URL" "${TOK[@]}" --tls-ca ca.pem --tls-server-name localhost)

"$ND" status "${GOOD[@]}" >"$T/status.out" 2>&1
check "the right CA works (status over TLS)" test $? = 0

cat >"$T/grid.json" <<-EOF
	{"name": "tls-grid", "input": {"format": "grid", "channels": 4, "trials": 5},
	 "steps": [{"op": "sleep", "ms": 10}], "execution": {"min_workers": 1}}
EOF
"$WORKER" -s "$URL" "${TOK[@]}" --tls-ca ca.pem --tls-server-name localhost -n 2 \
	>"$T/worker-good.log" 2>&1 &
PIDS+=($!)
"$ND" submit --wait "$T/grid.json" "${GOOD[@]}" >"$T/submit.out" 2>"$T/submit.err"
check "a job completes over TLS (exit 0)" test $? = 0
check "all 20 tasks done" grep -q "20/20 tasks done" "$T/submit.err"
"$ND" status -s "${URL/127.0.0.1/localhost}" "${TOK[@]}" --tls-ca ca.pem >/dev/null 2>&1
check "a DNS name in the URL needs no --tls-server-name" test $? = 0

"$ND" status -s "$URL" "${TOK[@]}" --tls-ca other-ca.pem --tls-server-name localhost \
	>/dev/null 2>"$T/wrong-ca.err"
check "a wrong CA is refused (exit 3)" test $? = 3
check "with a clear error" grep -q "TLS handshake with $URL refused" "$T/wrong-ca.err"

"$ND" status -s "$URL" "${TOK[@]}" --tls-server-name localhost >/dev/null 2>"$T/no-ca.err"
check "no CA is refused (exit 3)" test $? = 3
check "with a clear error" grep -q "refused .*no --tls-ca given" "$T/no-ca.err"

"$ND" status -s "$URL" "${TOK[@]}" --tls-ca ca.pem >/dev/null 2>"$T/ip.err"
check "an IP address without --tls-server-name is refused (exit 3)" test $? = 3
check "with a clear error" grep -q "cannot be verified against an IP address" "$T/ip.err"

"$ND" status -s "$URL" "${TOK[@]}" --tls-ca ca.pem --tls-server-name otherhost \
	>/dev/null 2>"$T/name.err"
check "a name the certificate does not carry is refused (exit 3)" test $? = 3

timeout 20 "$WORKER" -s "$URL" "${TOK[@]}" --tls-ca other-ca.pem --tls-server-name localhost \
	>"$T/worker-bad.log" 2>&1
check "a worker with a wrong CA exits 1" test $? = 1
check "logging why" grep -q "error: TLS handshake with $URL refused" "$T/worker-bad.log"

# A worker started before its scheduler keeps dialing; once the scheduler is there, a refused
# handshake is found and explained instead of retried forever.
URL2="tls+tcp://127.0.0.1:$(free_port)"
timeout 30 "$WORKER" -s "$URL2" "${TOK[@]}" --tls-ca other-ca.pem --tls-server-name localhost \
	>"$T/worker-early.log" 2>&1 &
early=$!
sleep 0.5
start_scheduler "$T/s2" URL2 --tls-cert server.pem --tls-key server.key --token-file "$T/s/token"
wait "$early"
check "a worker that dialed early exits 1 on the refused handshake" test $? = 1
check "logging why" grep -q "error: TLS handshake with $URL2 refused" "$T/worker-early.log"

# Mutual TLS: a scheduler given --tls-ca requires client certificates.
URL3="tls+tcp://127.0.0.1:$(free_port)"
start_scheduler "$T/s3" URL3 --tls-cert server.pem --tls-key server.key --tls-ca ca.pem \
	--token-file "$T/s/token"
M=(-s "$URL3" "${TOK[@]}" --tls-ca ca.pem --tls-server-name localhost)
"$ND" status "${M[@]}" >/dev/null 2>"$T/mutual-none.err"
check "mutual TLS: a client without a certificate is refused (exit 3)" test $? = 3
check "with a hint" grep -q "requires client certificates: --tls-cert, --tls-key" "$T/mutual-none.err"
"$ND" status "${M[@]}" --tls-cert client.pem --tls-key client.key >/dev/null 2>&1
check "mutual TLS: a client with a certificate from the CA works" test $? = 0

echo "tls test: $failures failures"
[ "$failures" = 0 ]
