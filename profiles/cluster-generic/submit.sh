#!/usr/bin/env bash
# Submit a Snakemake job script; print the scheduler's job id (and nothing else) on stdout.
# Called as: submit.sh --threads N --mem-mb M --runtime MIN --gpus G --rule NAME <jobscript>
set -euo pipefail
extra=()
while [ $# -gt 1 ]; do
    case "$1" in
        --threads) extra+=(--cpus-per-task="$2"); shift 2 ;;
        --mem-mb) extra+=(--mem="$2"); shift 2 ;;
        --runtime) extra+=(--time="$2"); shift 2 ;;
        --gpus) [ "$2" -gt 0 ] && extra+=(--gpus="$2"); shift 2 ;;
        --rule) extra+=(--job-name="mcof.$2"); shift 2 ;;
        *) echo "submit.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
mkdir -p results/logs/cluster
sbatch --parsable ${MCOF_SBATCH_ARGS:-} "${extra[@]}" \
    --output=results/logs/cluster/%j.out "$1" | cut -d';' -f1
