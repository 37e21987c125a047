#!/usr/bin/env bash
# tools/slurm/local_cluster.sh — a single-node Slurm on this machine, for trying and testing
# servesim's Slurm path without a real cluster: munge plus slurmctld and slurmd from Debian
# (tools/setup.sh installs them), configured on localhost in a private folder.
# Needs root (the daemons run as root, like a throwaway CI machine). Usage:
#   eval "$(tools/slurm/local_cluster.sh start)"   # prints `export SLURM_CONF=...`
#   sbatch ...; squeue; ...
#   tools/slurm/local_cluster.sh stop
# State lives in ${SERVESIM_SLURM_DIR:-/tmp/servesim-slurm}; `stop` kills the daemons it started.
set -euo pipefail
dir="${SERVESIM_SLURM_DIR:-/tmp/servesim-slurm}"
cmd="${1:-}"

stop() {
  for f in slurmd slurmctld munged; do
    if [ -f "$dir/$f.pid" ]; then kill "$(cat "$dir/$f.pid")" 2>/dev/null || true; rm -f "$dir/$f.pid"; fi
  done
}

case "$cmd" in
  start)
    [ "$(id -u)" -eq 0 ] || { echo "local_cluster: the daemons need root" >&2; exit 1; }
    for b in munged slurmctld slurmd sbatch; do
      command -v "$b" >/dev/null || { echo "local_cluster: $b not found; run tools/setup.sh" >&2; exit 1; }
    done
    stop
    mkdir -p "$dir"/{state,spool,log,munge,run}
    chmod 700 "$dir/munge"
    [ -f "$dir/munge/munge.key" ] || { dd if=/dev/urandom bs=1 count=1024 of="$dir/munge/munge.key" status=none; chmod 400 "$dir/munge/munge.key"; }
    munged --force --key-file="$dir/munge/munge.key" --socket="$dir/run/munge.socket" \
      --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed"
    host="$(hostname -s)"
    cpus="$(nproc)"
    mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
    cat > "$dir/slurm.conf" <<CONF
ClusterName=servesim
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/run/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MaxArraySize=10001
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF="$dir/slurm.conf"
    slurmctld -i
    slurmd
    for _ in $(seq 1 60); do
      if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
        echo "export SLURM_CONF=$dir/slurm.conf"
        exit 0
      fi
      sleep 0.5
    done
    echo "local_cluster: the node did not come up; see $dir/log/" >&2
    tail -5 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
    stop
    exit 1
    ;;
  stop)
    stop
    ;;
  *)
    echo "usage: tools/slurm/local_cluster.sh start|stop" >&2
    exit 2
    ;;
esac
