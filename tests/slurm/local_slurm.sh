#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for running the workflow through the SLURM executor.
#
#   tests/slurm/local_slurm.sh start DIR   # prints `export SLURM_CONF=DIR/slurm.conf`
#   tests/slurm/local_slurm.sh stop DIR
#
# Needs root and Debian's `slurm-wlm` and `munge` packages. Everything lives in DIR (slurm.conf,
# munge key and socket, state, spool, logs, pid files), plus a link /etc/slurm/slurm.conf -> DIR/slurm.conf
# while the cluster runs: the SLURM executor's job step drops SLURM_* variables, SLURM_CONF included,
# before its inner `srun`, which then only finds the default path. So the script refuses to start where
# /etc/slurm/slurm.conf already exists (a real cluster's, or another local one's).
# The node is this machine as `slurmd -C` sees it (CPUs, memory), named localhost, in one partition
# `local`; no accounting database, so job states come from squeue (`--slurm-status-command squeue`).
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
action=$1
dir=$(realpath -m "$2")
SYSTEM_CONF=/etc/slurm/slurm.conf

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop() {
    local name pid jobs
    # Jobs first: their slurmstepd processes outlive slurmd. Every job on this private cluster is ours.
    if [[ -s $dir/slurmctld.pid ]]; then
        jobs=$(SLURM_CONF=$dir/slurm.conf squeue --noheader --format=%i 2>/dev/null || true)
        if [[ -n $jobs ]]; then
            SLURM_CONF=$dir/slurm.conf scancel $jobs 2>/dev/null || true
            for _ in $(seq 50); do
                [[ -z $(SLURM_CONF=$dir/slurm.conf squeue --noheader --states=RUNNING,COMPLETING 2>/dev/null) ]] && break
                sleep 0.2
            done
        fi
    fi
    # slurmd before slurmctld (it reports to it), munged last (both authenticate through it).
    for name in slurmd slurmctld munged; do
        [[ -s $dir/$name.pid ]] || continue
        pid=$(cat "$dir/$name.pid")
        kill "$pid" 2>/dev/null || continue
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$dir/$name.pid"
    done
    if [[ $(readlink "$SYSTEM_CONF" 2>/dev/null) == "$dir/slurm.conf" ]]; then
        rm -f "$SYSTEM_CONF"
    fi
}

fail() {
    echo "local_slurm: $1" >&2
    local log
    for log in munged slurmctld slurmd; do
        [[ -s $dir/$log.log ]] && { echo "--- $dir/$log.log (last lines)" >&2; tail -n 20 "$dir/$log.log" >&2; }
    done
    stop
    exit 1
}

start() {
    [[ $(id -u) -eq 0 ]] || { echo "local_slurm: must run as root (slurmd starts jobs as their user)" >&2; exit 1; }
    local tool
    for tool in munged mungekey slurmctld slurmd sbatch sinfo; do
        command -v "$tool" >/dev/null || { echo "local_slurm: $tool not found; apt-get install -y slurm-wlm munge" >&2; exit 1; }
    done
    if [[ -L $SYSTEM_CONF && ! -e $SYSTEM_CONF ]]; then
        rm -f "$SYSTEM_CONF"  # left by a local cluster whose folder is gone (a killed test run)
    fi
    if [[ -e $SYSTEM_CONF ]]; then
        echo "local_slurm: $SYSTEM_CONF exists (a real cluster, or a local one still running: run stop on its folder)" >&2
        exit 1
    fi
    mkdir -p "$dir/munge" "$dir/state" "$dir/spool"
    chmod 700 "$dir" "$dir/munge"

    mungekey --create --keyfile="$dir/munge/munge.key" --force
    munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
        --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/munge.seed" \
        || fail "munged did not start"

    # The node as slurmd sees it: CPUs, sockets, cores, threads, memory (a larger claim would drain it).
    local hardware
    hardware=$(slurmd -C | head -n 1 | sed -e 's/^NodeName=[^ ]* //')
    cat >"$dir/slurm.conf" <<CONF
ClusterName=w2vlocal
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
# Finished jobs stay visible to squeue for 10 minutes (there is no accounting database for sacct).
MinJobAge=600
NodeName=localhost NodeAddr=127.0.0.1 $hardware State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
    mkdir -p "$(dirname "$SYSTEM_CONF")"
    ln -s "$dir/slurm.conf" "$SYSTEM_CONF"
    export SLURM_CONF=$dir/slurm.conf
    slurmctld || fail "slurmctld did not start"
    slurmd -N localhost || fail "slurmd did not start"

    # Ready when the node takes jobs.
    local state=""
    for _ in $(seq 100); do
        state=$(sinfo --noheader --nodes=localhost --format=%T 2>/dev/null || true)
        [[ $state == idle* ]] && break
        sleep 0.2
    done
    [[ $state == idle* ]] || fail "node localhost not idle after 20 s (state: ${state:-unknown})"
    echo "export SLURM_CONF=$dir/slurm.conf"
}

case $action in
    start) start ;;
    stop) stop ;;
    *) usage ;;
esac
