#!/usr/bin/env bash
# A real single-node SLURM (munge, mariadb, slurmdbd, slurmctld, slurmd) on localhost, for tests.
#   cluster.sh start STATE_DIR   installs Debian's packages if missing, starts the daemons,
#                                waits until the node is idle; prints the SLURM_CONF path
#   cluster.sh stop STATE_DIR    stops the daemons started from STATE_DIR
# Two fake GPUs (character devices) let the scheduler hand out --gpus=1 jobs. Needs root.
set -euo pipefail
cmd=$1
S=$(realpath -m "$2")

stop() {
    for name in slurmd slurmctld slurmdbd mariadbd munged; do
        if [ -f "$S/pids/$name" ]; then
            kill "$(cat "$S/pids/$name")" 2>/dev/null || true
        fi
    done
    sleep 1
    for name in slurmd slurmctld slurmdbd mariadbd munged; do
        [ -f "$S/pids/$name" ] && kill -9 "$(cat "$S/pids/$name")" 2>/dev/null || true
        rm -f "$S/pids/$name"
    done
    # A slurm.conf naming a controller that is gone makes every `scontrol` wait 9 s, and the
    # SLURM executor plugin runs one whenever snakemake starts: take ours out of /etc/slurm.
    if grep -qs "^ClusterName=mcoftest" /etc/slurm/slurm.conf; then
        rm -f /etc/slurm/slurm.conf /etc/slurm/gres.conf
    fi
}

if [ "$cmd" = stop ]; then
    stop
    exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v mariadbd >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        slurmctld slurmd slurm-client munge slurmdbd mariadb-server >/dev/null
fi

mkdir -p "$S"/{pids,logs,munge,db,state,spool,dev}
chmod 700 "$S/munge"
port_db=$(( 20000 + RANDOM % 20000 ))
port_ctl=$(( port_db + 1 ))
port_d=$(( port_db + 2 ))
port_dbd=$(( port_db + 3 ))

# munge
dd if=/dev/urandom of="$S/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$S/munge/munge.key"
munged --force --key-file="$S/munge/munge.key" --socket="$S/munge/munge.socket" \
    --pid-file="$S/pids/munged" --log-file="$S/logs/munged.log" --seed-file="$S/munge/seed"
socket="$S/munge/munge.socket"

# mariadb
mariadb-install-db --no-defaults --datadir="$S/db" --user=root \
    --auth-root-authentication-method=normal >"$S/logs/mariadb-install.log" 2>&1
mariadbd --no-defaults --datadir="$S/db" --user=root --bind-address=127.0.0.1 --port="$port_db" \
    --socket="$S/db/mysql.sock" --pid-file="$S/pids/mariadbd" --skip-grant-tables=0 \
    >"$S/logs/mariadbd.log" 2>&1 &
for _ in $(seq 60); do [ -S "$S/db/mysql.sock" ] && break; sleep 0.5; done

# fake GPUs for gres
for i in 0 1; do [ -e "$S/dev/gpu$i" ] || mknod "$S/dev/gpu$i" c 1 3; done

cat >"$S/slurmdbd.conf" <<CONF
AuthType=auth/munge
AuthInfo=socket=$socket
DbdHost=localhost
DbdPort=$port_dbd
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$port_db
StorageUser=root
StorageLoc=slurm_acct_db
PidFile=$S/pids/slurmdbd
LogFile=$S/logs/slurmdbd.log
CONF
chmod 600 "$S/slurmdbd.conf"

cat >"$S/slurm.conf" <<CONF
ClusterName=mcoftest
SlurmctldHost=localhost
SlurmctldPort=$port_ctl
SlurmdPort=$port_d
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
ReturnToService=2
GresTypes=gpu
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$port_dbd
AccountingStoragePass=$socket
AccountingStorageTRES=gres/gpu
JobAcctGatherType=jobacct_gather/none
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/pids/slurmctld
SlurmdPidFile=$S/pids/slurmd
SlurmctldLogFile=$S/logs/slurmctld.log
SlurmdLogFile=$S/logs/slurmd.log
NodeName=localhost CPUs=$(nproc) RealMemory=8000 Gres=gpu:2 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
cat >"$S/gres.conf" <<CONF
NodeName=localhost Name=gpu File=$S/dev/gpu0
NodeName=localhost Name=gpu File=$S/dev/gpu1
CONF
# the executor's job step clears SLURM_CONF before its inner srun: the files must be here too
mkdir -p /etc/slurm
cp "$S/slurm.conf" "$S/gres.conf" /etc/slurm/
# slurmdbd reads slurmdbd.conf from the directory of SLURM_CONF
export SLURM_CONF="$S/slurm.conf"

slurmdbd -D >"$S/logs/slurmdbd.out" 2>&1 &
echo $! >"$S/pids/slurmdbd"
up=no
for _ in $(seq 60); do
    (exec 3<>/dev/tcp/127.0.0.1/$port_dbd) 2>/dev/null && { up=yes; break; }
    sleep 0.5
done
if [ $up = no ]; then
    echo "slurmdbd did not come up; logs in $S/logs" >&2
    stop
    exit 1
fi
slurmctld -D -i -f "$S/slurm.conf" >"$S/logs/slurmctld.out" 2>&1 &
echo $! >"$S/pids/slurmctld"
slurmd -D -N localhost -f "$S/slurm.conf" >"$S/logs/slurmd.out" 2>&1 &
echo $! >"$S/pids/slurmd"
deadline=$(( SECONDS + 60 ))
while [ $SECONDS -lt $deadline ]; do
    state=$(timeout 5 sinfo -h -N -o %t 2>/dev/null | head -n1 || true)
    [ "$state" = idle ] && break
    sleep 0.5
done
if [ "${state:-}" != idle ]; then
    echo "slurm did not come up (node state: ${state:-none}); logs in $S/logs" >&2
    stop
    exit 1
fi
echo "$S/slurm.conf"
