# A throw-away one-node Slurm for tests (sourced by test-slurm.sh): munged as the munge user,
# slurmctld and slurmd in the foreground under a temporary directory, everything stopped by PID.
# Needs root and the Debian packages slurmctld slurmd slurm-client munge (deploy/setup.sh --test).
# Skips (exit 77) when Slurm cannot be installed or started.

SLURM_PKGS="slurmctld slurmd slurm-client munge"

slurm_skip() {
	echo "SKIP: $*" >&2
	exit 77
}

# Alive and not a zombie (exited daemons whose parent does not reap them linger as Z).
slurm_alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st#Z}" = "$st" ]
}

# Stop a process by PID: SIGTERM, up to $2 seconds (default 10), then SIGKILL.
slurm_stop_pid() {
	local pid=$1 limit=${2:-10} i
	[ -n "$pid" ] || return 0
	slurm_alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < limit * 10; i++)); do
		slurm_alive "$pid" || break
		sleep 0.1
	done
	slurm_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
}

slurm_install() {
	local missing=0 b
	for b in slurmctld slurmd sbatch squeue scontrol scancel munged munge; do
		command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || missing=1
	done
	[ "$missing" = 0 ] && return 0
	[ "${NEURODAG_TEST_NO_INSTALL:-0}" = 1 ] && slurm_skip "Slurm is not installed ($SLURM_PKGS)"
	command -v apt-get >/dev/null 2>&1 || slurm_skip "Slurm is not installed and there is no apt-get"
	echo "installing $SLURM_PKGS" >&2
	DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq --no-install-recommends \
		$SLURM_PKGS >/dev/null 2>&1 ||
		{ DEBIAN_FRONTEND=noninteractive timeout 300 apt-get update -qq >/dev/null 2>&1 &&
		  DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq \
			--no-install-recommends $SLURM_PKGS >/dev/null 2>&1; } ||
		slurm_skip "cannot install $SLURM_PKGS"
}

# Start munged (unless one already answers), slurmctld and slurmd. Sets SLURM_CONF,
# SLURM_DIR, SLURMCTLD_PID, SLURMD_PID, MUNGED_PID (empty when an existing munged is used).
slurm_start() {
	local dir=$1 cpus=${2:-16} port i
	[ "$(id -u)" = 0 ] || slurm_skip "a test Slurm needs root (munged as munge, slurmd)"
	slurm_install
	export PATH="$PATH:/usr/sbin:/sbin"
	id munge >/dev/null 2>&1 || slurm_skip "no munge user"
	[ -r /etc/munge/munge.key ] || slurm_skip "no /etc/munge/munge.key"
	SLURM_DIR=$dir
	mkdir -p "$dir/munge" "$dir/state" "$dir/spool"
	chmod 755 "$dir"
	MUNGED_PID=
	if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
		# munged refuses to run as root with its key: run it as the munge user.
		mkdir -p /run/munge && chown munge:munge /run/munge && chmod 755 /run/munge
		chown munge:munge "$dir/munge" && chmod 700 "$dir/munge"
		runuser -u munge -- munged --pid-file="$dir/munge/munged.pid" \
			--log-file="$dir/munge/munged.log" --seed-file="$dir/munge/seed" ||
			slurm_skip "munged does not start: $(tail -3 "$dir/munge/munged.log" 2>/dev/null)"
		for ((i = 0; i < 50; i++)); do
			munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break
			sleep 0.1
		done
		MUNGED_PID=$(cat "$dir/munge/munged.pid" 2>/dev/null)
		munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 ||
			slurm_skip "munged does not answer"
	fi
	# Ports away from a site Slurm's 6817/6818.
	port=$((20000 + ($$ % 20000)))
	export SLURM_CONF="$dir/slurm.conf"
	cat >"$SLURM_CONF" <<-EOF
		ClusterName=ndtest
		SlurmctldHost=localhost
		SlurmctldPort=$port
		SlurmdPort=$((port + 1))
		SlurmUser=root
		AuthType=auth/munge
		StateSaveLocation=$dir/state
		SlurmdSpoolDir=$dir/spool
		SlurmctldPidFile=$dir/slurmctld.pid
		SlurmdPidFile=$dir/slurmd.pid
		SlurmctldLogFile=$dir/slurmctld.log
		SlurmdLogFile=$dir/slurmd.log
		ProctrackType=proctrack/linuxproc
		TaskPlugin=task/none
		SelectType=select/cons_tres
		SelectTypeParameters=CR_Core
		SchedulerParameters=batch_sched_delay=0
		SlurmdParameters=config_overrides
		MailProg=/bin/true
		ReturnToService=2
		KillWait=10
		MpiDefault=none
		JobCompType=jobcomp/none
		AccountingStorageType=accounting_storage/none
		NodeName=localhost CPUs=$cpus RealMemory=1000 State=UNKNOWN
		PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
	EOF
	slurmctld -D -c >"$dir/slurmctld.out" 2>&1 &
	SLURMCTLD_PID=$!
	slurmd -D -N localhost >"$dir/slurmd.out" 2>&1 &
	SLURMD_PID=$!
	for ((i = 0; i < 100; i++)); do
		slurm_alive "$SLURMCTLD_PID" || break
		slurm_alive "$SLURMD_PID" || break
		[ "$(sinfo -h -n localhost -o %T 2>/dev/null)" = idle ] && return 0
		sleep 0.1
	done
	echo "--- slurmctld.log" >&2
	tail -5 "$dir/slurmctld.log" >&2
	echo "--- slurmd.log" >&2
	tail -5 "$dir/slurmd.log" >&2
	slurm_stop
	slurm_skip "Slurm did not come up (node not idle within 10 s)"
}

# The states of a job's array tasks, one per line (empty when the job is gone).
slurm_job_states() {
	squeue -h -r -j "$1" -o %T 2>/dev/null
}

# Wait until a job has no array task left in the queue; $2 seconds at most.
slurm_wait_gone() {
	local i
	for ((i = 0; i < ${2:-30} * 10; i++)); do
		[ -z "$(slurm_job_states "$1")" ] && return 0
		sleep 0.1
	done
	return 1
}

slurm_stop() {
	local jobs
	if [ -n "${SLURMCTLD_PID:-}" ] && slurm_alive "$SLURMCTLD_PID"; then
		jobs=$(squeue -h -o %A 2>/dev/null | sort -u)
		if [ -n "$jobs" ]; then
			# shellcheck disable=SC2086
			scancel $jobs 2>/dev/null
			for j in $jobs; do slurm_wait_gone "$j" 20 || true; done
		fi
	fi
	slurm_stop_pid "${SLURMD_PID:-}"
	slurm_stop_pid "${SLURMCTLD_PID:-}"
	slurm_stop_pid "${MUNGED_PID:-}"
	SLURMD_PID= SLURMCTLD_PID= MUNGED_PID=
}
