#!/bin/sh
# SPDX-License-Identifier: MIT
#
# A private one-box Slurm for bench/launch (the baseline Gantry is compared
# with). NOTE: `install` (and `start`, when Slurm is missing) installs
# Debian's Slurm 22.05 and munge with apt-get; `make bench` therefore does.
# `make test` never runs this script.
#
#   bench/slurm.sh install            apt-get install slurmctld slurmd slurm-client munge, if missing
#   bench/slurm.sh start DIR [CPUS]   a cluster under DIR: its own munged (own socket), slurmctld
#                                     and one slurmd with CPUS slots (default 64), on free ports;
#                                     returns when the node is idle. Clients use
#                                     SLURM_CONF=DIR/etc/slurm.conf
#   bench/slurm.sh stop DIR           end the daemons started under DIR (by their pids), and any
#                                     job step they left
#
# Nothing here touches a system-wide Slurm or munge: the daemons run in the
# foreground (`&`, pids in DIR/*.pid), the ports are picked free (below the
# ephemeral range), munged listens on DIR/munge/socket, every file lives
# under DIR.
#
# Tuning, so that Slurm is measured at its best on one box (research/c-stack.md
# §3 has the measured effect of each):
#   - one node with CPUS slots (config_overrides: trust slurm.conf, not the
#     2 real cores), DefMemPerCPU small, so CPUS one-CPU jobs run at once —
#     the same slot count as Gantry's benchmark cluster;
#   - SchedulerParameters: batch_sched_delay=0 (batch jobs are scheduled on
#     the controller's next pass, not up to 3 s later), default_queue_depth
#     and partition_job_depth large (each pass considers every pending job,
#     not the first 100), sched_min_interval=0 (no floor between main
#     scheduler passes), bf_interval=1 (backfill every second, not every
#     30 s). Slurm 22.05 never starts a batch job inside the sbatch RPC: the
#     main scheduler's pass from the controller's once-a-second background
#     loop, or the backfill pass, starts it. srun's allocation is made inside
#     its RPC;
#   - no accounting, no prolog/epilog, proctrack/linuxproc, task/none
#     (cgroups would only add work), jobacct_gather/none, SlurmctldDebug and
#     SlurmdDebug at error (logging is not free), MinJobAge=2 so that finished
#     jobs leave the controller's tables quickly;
#   - jobcomp/filetxt (DIR/log/jobcomp.txt, one line per finished job with its
#     state): how bench/launch sees jobs end without polling squeue. It is one
#     append per job, the cheapest completion record Slurm has.
set -eu

die() { echo "bench/slurm.sh: $*" >&2; exit 1; }

have() { command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 &&
         command -v sbatch >/dev/null 2>&1 && command -v munged >/dev/null 2>&1; }

install() {
	have && return 0
	SUDO=
	[ "$(id -u)" = 0 ] || SUDO=sudo
	echo "bench/slurm.sh: installing Slurm and munge from Debian (apt-get)..." >&2
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq >/dev/null 2>&1 || true
	$SUDO apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null ||
		die "apt-get install slurmctld slurmd slurm-client munge failed"
	have || die "Slurm is still missing after apt-get"
}

# A TCP port that no socket on this machine uses, from $1 upwards, skipping
# $2; below the ephemeral range, so that no client connection takes it
# between this check and the daemon's bind.
free_port() {
	p=$1
	while [ "$p" = "${2:-}" ] || ss -Htan "( sport = :$p or dport = :$p )" 2>/dev/null | grep -q .; do
		p=$((p + 1))
	done
	echo "$p"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

write_conf() {
	MEM=$((CPUS * 128 + 1024))
	cat > "$D/etc/slurm.conf" <<CONF
ClusterName=bench
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$D/munge/socket
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool/%n
SlurmctldPidFile=$D/slurmctld.pidfile
SlurmdPidFile=$D/slurmd.pidfile
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
SlurmctldDebug=error
SlurmdDebug=error
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,default_queue_depth=10000,partition_job_depth=10000,sched_min_interval=0,bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$D/log/jobcomp.txt
MinJobAge=2
MaxJobCount=100000
DefMemPerCPU=100
SlurmdParameters=config_overrides
NodeName=bench NodeHostname=$(hostname) NodeAddr=127.0.0.1 Port=$SLURMD_PORT CPUs=$CPUS Sockets=1 CoresPerSocket=$CPUS ThreadsPerCore=1 RealMemory=$MEM State=UNKNOWN
PartitionName=bench Nodes=bench Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
}

# slurmctld and slurmd on fresh ports (attempt $1); 0 once the node is idle
start_daemons() {
	CTLD_PORT=$(free_port $((10000 + ($$ * 7 + $1 * 101) % 20000)))
	SLURMD_PORT=$(free_port $((CTLD_PORT + 1)) "$CTLD_PORT")
	write_conf
	export SLURM_CONF="$D/etc/slurm.conf"
	slurmctld -D -i > "$D/log/slurmctld.out" 2>&1 &
	echo $! > "$D/slurmctld.pid"
	slurmd -D -N bench > "$D/log/slurmd.out" 2>&1 &
	echo $! > "$D/slurmd.pid"
	i=0
	while [ $i -lt 300 ]; do
		alive "$D/slurmctld.pid" && alive "$D/slurmd.pid" || return 1
		timeout 5 sinfo -h -N -o %t 2>/dev/null | grep -qx idle && return 0
		i=$((i + 1))
		sleep 0.05
	done
	return 1
}

# by pid: the daemons this script started under DIR, nothing else
stop_daemons() {
	for d in slurmd slurmctld; do
		[ -f "$D/$d.pid" ] || continue
		pid=$(cat "$D/$d.pid")
		kill "$pid" 2>/dev/null || true
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
		kill -9 "$pid" 2>/dev/null || true
		rm -f "$D/$d.pid"
	done
}

start() {
	D=$1
	CPUS=${2:-64}
	install
	[ "$(id -u)" = 0 ] || die "the daemons run as root here (SlurmUser=root); run as root"
	mkdir -p "$D/etc" "$D/state" "$D/spool/bench" "$D/log" "$D/munge"
	chmod 0755 "$D"          # munged (user munge) must reach DIR/munge

	# munged refuses a socket directory that others may write to, and wants
	# its own user; the key is the package's.
	[ -r /etc/munge/munge.key ] || die "/etc/munge/munge.key is missing (reinstall munge)"
	chown munge:munge "$D/munge"
	chmod 0755 "$D/munge"
	setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged -F --socket="$D/munge/socket" \
		--pid-file="$D/munge/pid" --log-file="$D/munge/log" --seed-file="$D/munge/seed" \
		--key-file=/etc/munge/munge.key > "$D/log/munged.out" 2>&1 &
	echo $! > "$D/munged.pid"
	i=0
	until [ -S "$D/munge/socket" ]; do
		if [ $i -ge 200 ]; then
			cat "$D/log/munged.out" >&2
			stop "$D"
			die "munged did not start"
		fi
		i=$((i + 1))
		sleep 0.02
	done

	# a port can still be taken between the check and the bind: try again
	for attempt in 1 2 3; do
		if start_daemons $attempt; then
			echo "SLURM_CONF=$SLURM_CONF"
			return 0
		fi
		stop_daemons
	done
	cat "$D/log/"*.out >&2 2>/dev/null || true
	stop "$D"
	die "the Slurm node did not become idle"
}

stop() {
	D=$1
	# the jobs' processes first (slurmstepd and what it runs), then the daemons
	if [ -f "$D/etc/slurm.conf" ] && alive "$D/slurmctld.pid"; then
		SLURM_CONF="$D/etc/slurm.conf" timeout 10 scancel --quiet --user=root 2>/dev/null || true
	fi
	stop_daemons
	if [ -f "$D/munged.pid" ]; then
		kill "$(cat "$D/munged.pid")" 2>/dev/null || true
		rm -f "$D/munged.pid"
	fi
	# a slurmstepd outlives slurmd by design; end the ones of this spool by pid
	for p in $(pgrep -x slurmstepd 2>/dev/null || true); do
		if tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q "$D" ||
		   [ "$(readlink "/proc/$p/cwd" 2>/dev/null)" = "$D/spool/bench" ]; then
			kill -9 "$p" 2>/dev/null || true
		fi
	done
}

case "${1:-}" in
install) install ;;
start) [ $# -ge 2 ] || die "usage: $0 start DIR [CPUS]"; start "$2" "${3:-64}" ;;
stop) [ $# -ge 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
*) die "usage: $0 install | start DIR [CPUS] | stop DIR" ;;
esac
