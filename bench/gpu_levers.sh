#!/usr/bin/env bash
# Many lever runs at once on one machine with a GPU (16 cores): each dataset's baseline (today's
# config.yaml) from nothing, then its comparison runs and every lever from a copy of the
# baseline, PARALLEL runs at a time, until a deadline; bench/levers.py writes each row.
#   bench/gpu_levers.sh SNAKEMAKE_BIN RESULTS_DIR SECONDS
# Env: DATASETS ("synthetic photos"), LEVERS (order = priority), SCRATCH_LEVERS (levers that
# change the CAMs, run from nothing), PARALLEL (8), CHANGE (a config change for every run, JSON),
# ITERATIONS (5), PYTHON (python3). Runs still going at the deadline are stopped and listed in
# status.txt.
set -uo pipefail
smk="$1"; results="$2"; seconds="$3"
repo="$(cd "$(dirname "$0")/.." && pwd)"
datasets="${DATASETS:-synthetic photos}"
levers="${LEVERS:-crf_loop rw_masks all_targets relabel_first pooled_both short_later wider_cam_seeds+wider_mask_seeds}"
scratch_levers="${SCRATCH_LEVERS:-multiscale_cam rw_cams}"
parallel="${PARALLEL:-8}"
default_change='{"device": "cuda", "shards": {"train": 1}}'
change="${CHANGE:-$default_change}"
iterations="${ITERATIONS:-5}"
python="${PYTHON:-python3}"
deadline=$(($(date +%s) + seconds))
mkdir -p "$results/logs"
status="$results/status.txt"
: > "$status"

lever() {  # dataset lever [levers.py options...]
    local dataset="$1" name="$2"; shift 2
    local t0 tag="$*"; t0=$(date +%s)
    # Its own GPU slot lock: by default every job of the user on the machine shares one per GPU,
    # so the runs would take turns on the GPU (mcof/training/device.py).
    if MCOF_GPU_LOCK_DIR="$results/locks/$dataset.$name${tag// /_}" \
        "$python" "$repo/bench/levers.py" --dataset "$dataset" --levers "$name" --cores 2 \
        --results "$results" --change "$change" --iterations "$iterations" --snakemake "$smk" \
        "$@" > "$results/logs/$dataset.$name${tag// /_}.log" 2>&1; then
        echo "done $dataset $name $* $(($(date +%s) - t0)) s" >> "$status"
    else
        echo "failed $dataset $name $* $(($(date +%s) - t0)) s" >> "$status"
    fi
}

# Queue: "dataset lever options" lines; a lever from a copy waits for its dataset's baseline.
queue=()
for d in $datasets; do queue+=("$d defaults"); done
for d in $datasets; do
    for l in $scratch_levers; do queue+=("$d $l"); done
done
for d in $datasets; do queue+=("$d defaults --comparisons"); done
for l in $levers; do
    for d in $datasets; do queue+=("$d $l --start-from defaults"); done
done

baseline_done() { grep -q "^done $1 defaults  " "$status"; }
running=()
while [ $(date +%s) -lt $deadline ]; do
    alive=()
    for pid in "${running[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
    running=("${alive[@]}")
    if [ ${#queue[@]} -eq 0 ] && [ ${#running[@]} -eq 0 ]; then break; fi
    if [ ${#running[@]} -lt "$parallel" ]; then
        for i in "${!queue[@]}"; do
            read -r d l opts <<< "${queue[$i]}"
            if [ -n "$opts" ] && grep -q "^failed $d defaults  " "$status"; then
                echo "skipped $d $l $opts (its baseline failed)" >> "$status"
                unset 'queue[i]'; queue=("${queue[@]}"); break
            fi
            if [ -n "$opts" ] && ! baseline_done "$d"; then continue; fi
            # shellcheck disable=SC2086
            lever "$d" "$l" $opts &
            running+=("$!")
            echo "started $d $l $opts at $(($(date +%s) - deadline + seconds)) s" >> "$status"
            unset 'queue[i]'; queue=("${queue[@]}")
            break
        done
    fi
    sleep 2
done
killtree() {
    local child
    for child in $(pgrep -P "$1"); do killtree "$child"; done
    kill -TERM "$1" 2>/dev/null
}
for pid in "${running[@]}"; do killtree "$pid"; done
for entry in "${queue[@]}"; do echo "not started $entry" >> "$status"; done
sleep 3
echo "stopped at $(($(date +%s) - deadline + seconds)) s" >> "$status"
