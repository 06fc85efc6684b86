#!/usr/bin/env bash
# A throw-away one-node SLURM cluster (munged, slurmctld, slurmd; no accounting database) on a
# Debian or Ubuntu machine, for tests/test_slurm.py and CI.  Needs root; does not need systemd.
#
#   .ci/slurm-cluster.sh up       install the packages if missing, configure, start the daemons,
#                                 wait until the node takes jobs.  A running cluster is left as is.
#   .ci/slurm-cluster.sh down     cancel every job, stop the daemons this script started (by the
#                                 PID files in /run/dd2424-slurm).  Nothing else is touched.
#   .ci/slurm-cluster.sh status   the daemons and sinfo; exit 0 only if this cluster takes jobs.
#
# There is no slurmdbd, so no job accounting: `sacct` exits 1 ("Slurm accounting storage is
# disabled"), and Snakemake's SLURM plugin must be given `--slurm-status-command squeue`
# (finished jobs stay visible to squeue for MinJobAge seconds).
#
# Environment: SLURM_CLUSTER_PARTITION (default: main); SLURM_CLUSTER_MEM_MB, the node's declared
# memory (default: what slurmd measures, at least 8192 so that the rules' mem_mb requests fit; it
# is not enforced); SLURM_CLUSTER_LOG, where apt's and the daemons' output goes (default:
# /tmp/dd2424-slurm; the daemons log to /var/log/slurm/).
# It writes /etc/slurm/slurm.conf, and refuses to replace one that it did not write.
set -euo pipefail

PARTITION=${SLURM_CLUSTER_PARTITION:-main}
LOG_DIR=${SLURM_CLUSTER_LOG:-/tmp/dd2424-slurm}
STATE_DIR=/run/dd2424-slurm # PID files of the daemons this script started
CONF=/etc/slurm/slurm.conf
MARKER="# written by dd2424 .ci/slurm-cluster.sh"
PACKAGES=(munge slurmctld slurmd slurm-client)
NODE=$(hostname -s)

T0=$EPOCHREALTIME
say() { echo "[slurm-cluster +$(awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')s] $*"; }
die() {
  echo "[slurm-cluster] error: $*" >&2
  exit 1
}

wait_until() { # wait_until SECONDS COMMAND...: poll every 0.2 s
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

exited() { # exited PID: gone, or a zombie (daemons are reparented to init, which may reap late)
  [[ ! -e /proc/$1 ]] || grep -q '^State:.*zombie' "/proc/$1/status" 2>/dev/null
}

alive() { # alive NAME: the daemon NAME that this script started runs.  A PID file left behind
  # by a stopped machine may name a reused PID, hence the check of the process name.
  local file=$STATE_DIR/$1.pid pid
  [[ -s $file ]] || return 1
  pid=$(cat "$file")
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$1" ]] && ! exited "$pid"
}

node_state() { # asks slurmctld: only call it when slurmctld runs (sinfo waits ~10 s otherwise)
  sinfo --noheader --nodes "$NODE" --format %T 2>/dev/null | head -1
}
node_usable() { [[ $(node_state) =~ ^(idle|mixed|allocated|completing)$ ]]; }
cluster_up() { alive slurmctld && alive slurmd && node_usable; }
no_jobs_left() { [[ -z $(squeue --noheader --states=PENDING,RUNNING,COMPLETING) ]]; }

packages_missing() {
  local package
  for package in "${PACKAGES[@]}"; do
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null) == installed ]] || return 0
  done
  return 1
}

install_packages() {
  packages_missing || return 0
  command -v apt-get >/dev/null || die "${PACKAGES[*]} are not installed, and there is no apt-get"
  say "installing ${PACKAGES[*]} (log: $LOG_DIR/apt.log)"
  # Debian's maintainer scripts create the munge key and the munge and slurm users; they cannot
  # start the services here (no systemd), so nothing runs yet
  {
    DEBIAN_FRONTEND=noninteractive apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
  } >"$LOG_DIR/apt.log" 2>&1 || die "apt-get failed, see $LOG_DIR/apt.log"
}

start_munge() {
  alive munged && return 0
  if [[ -S /run/munge/munge.socket.2 ]] && munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    say "using the munged that runs already"
    return 0
  fi
  [[ -s /etc/munge/munge.key ]] || mungekey --create --force
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  install -d -o munge -g munge -m 0755 /run/munge
  rm -f "$STATE_DIR/munged.pid" /run/munge/munged.pid
  runuser -u munge -- /usr/sbin/munged </dev/null >>"$LOG_DIR/munged.out" 2>&1
  wait_until 10 sh -c 'munge -n | unmunge' || die "munged did not start, see $LOG_DIR/munged.out"
  cp /run/munge/munged.pid "$STATE_DIR/munged.pid" # munged (user munge) cannot write there
  say "munged started (pid $(cat "$STATE_DIR/munged.pid"))"
}

write_conf() {
  if [[ -e $CONF ]] && ! grep -qF "$MARKER" "$CONF"; then
    die "$CONF exists and was not written by this script: not touching a real SLURM installation"
  fi
  local node measured memory
  node=$(slurmd -C | head -1) # this machine's CPUs, sockets, cores, threads and memory
  measured=$(sed -E 's/.*RealMemory=([0-9]+).*/\1/' <<<"$node")
  memory=${SLURM_CLUSTER_MEM_MB:-$((measured > 8192 ? measured : 8192))}
  install -d -m 0755 /etc/slurm
  cat >"$CONF" <<EOF
$MARKER: a one-node test cluster
ClusterName=dd2424ci
SlurmctldHost=${NODE}(127.0.0.1)
AuthType=auth/munge
SlurmUser=slurm
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
MailProg=/bin/true
SlurmctldPidFile=$STATE_DIR/slurmctld.pid
SlurmdPidFile=$STATE_DIR/slurmd.pid
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=500
# the declared memory may exceed the machine's (nothing enforces it: no cgroups, no accounting)
SlurmdParameters=config_overrides
# finished jobs stay visible to squeue for 15 minutes: the job status source without slurmdbd
MinJobAge=900
# the processes of a cancelled job get SIGKILL 5 s after SIGTERM (default 30 s)
KillWait=5
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
$(sed -E "s/RealMemory=[0-9]+/RealMemory=$memory/" <<<"$node") NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  install -d -o slurm -g slurm /var/lib/slurm/slurmctld /var/log/slurm
  install -d /var/lib/slurm/slurmd
}

start_daemon() { # start_daemon NAME: /usr/sbin/NAME, which daemonizes and writes its PID file
  rm -f "$STATE_DIR/$1.pid"
  "/usr/sbin/$1" </dev/null >>"$LOG_DIR/$1.out" 2>&1
  wait_until 10 alive "$1" || die "$1 did not start, see /var/log/slurm/$1.log"
  say "$1 started (pid $(cat "$STATE_DIR/$1.pid"))"
}

up() {
  [[ $(id -u) == 0 ]] || die "needs root (installs packages, starts daemons)"
  mkdir -p "$LOG_DIR" "$STATE_DIR"
  if cluster_up; then
    say "already up"
    sinfo
    return
  fi
  install_packages
  say "packages ready"
  getent hosts "$NODE" >/dev/null || echo "127.0.0.1 $NODE" >>/etc/hosts # slurmd must resolve it
  start_munge
  if ! alive slurmctld; then
    write_conf
    rm -rf /var/lib/slurm/slurmctld/* # fresh controller state: job ids start at 1
    start_daemon slurmctld
    wait_until 30 scontrol ping || die "slurmctld does not answer, see /var/log/slurm/"
  fi
  alive slurmd || start_daemon slurmd
  if ! wait_until 30 node_usable; then
    scontrol update nodename="$NODE" state=resume || true
    wait_until 30 node_usable || die "node $NODE is '$(node_state)', see /var/log/slurm/"
  fi
  say "node $NODE $(node_state), partition $PARTITION"
  sinfo
}

stop() { # stop NAME: SIGTERM the daemon NAME that this script started, SIGKILL after 10 s
  local pid
  if alive "$1"; then
    pid=$(cat "$STATE_DIR/$1.pid")
    kill -TERM "$pid"
    wait_until 10 exited "$pid" || kill -KILL "$pid"
    say "stopped $1 (pid $pid)"
  fi
  rm -f "$STATE_DIR/$1.pid"
}

down() {
  [[ $(id -u) == 0 ]] || die "needs root"
  if alive slurmctld; then # no job outlives the cluster
    scancel --quiet --partition "$PARTITION" || true
    wait_until 15 no_jobs_left || say "jobs left: $(squeue --noheader --format %i | xargs)"
  fi
  stop slurmd
  stop slurmctld
  stop munged
  say "down"
}

status() {
  local name
  for name in munged slurmctld slurmd; do
    if alive "$name"; then
      echo "$name: running (pid $(cat "$STATE_DIR/$name.pid"))"
    else
      echo "$name: not running"
    fi
  done
  if ! grep -qsF "$MARKER" "$CONF"; then
    echo "no test cluster: $CONF was not written by this script"
    return 1
  fi
  cluster_up || { echo "the test cluster is not up: .ci/slurm-cluster.sh up" && return 1; }
  sinfo
}

case ${1:-} in
up) up ;;
down) down ;;
status) status ;;
*)
  echo "usage: $0 up|down|status" >&2
  exit 2
  ;;
esac
