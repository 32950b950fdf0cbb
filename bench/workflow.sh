#!/usr/bin/env bash
# Whole-workflow figures: the default 5-iteration run from nothing, a no-op rerun, and the
# VOC-scale dry run (10,582 + 1,449 ids, no images). Runs in a scratch copy of this checkout.
#   bench/workflow.sh [SNAKEMAKE_BIN]   -> bench/results/workflow.tsv
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
smk="${1:-$(command -v snakemake)}"
py="$(dirname "$smk")/python"
# BENCH_WORKDIR=DIR keeps the run (an empty or new DIR) for a look at its results afterwards.
if [ -n "${BENCH_WORKDIR:-}" ]; then
    work="$BENCH_WORKDIR"; mkdir -p "$work"
else
    work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$repo/bench/results"
out="$repo/bench/results/workflow.tsv"

git -C "$repo" archive HEAD | tar -x -C "$work"
cd "$work"
seconds() {
    local t0 t1; t0=$(date +%s.%N); "$@" > "$work/last.log" 2>&1; t1=$(date +%s.%N)
    "$py" -c "print(round($t1 - $t0, 2))"
}

full=$(seconds "$smk" --cores 2 results/iter5/miou.txt)
noop=$(seconds "$smk" --cores 2 results/iter5/miou.txt)
grep -q "Nothing to be done" "$work/last.log"

# The jobs' own time (their benchmark files), to set beside the wall time.
jobs=$("$py" - <<'PY'
import csv, glob
print(sum(float(next(csv.DictReader(open(p), delimiter="\t"))["s"])
          for p in glob.glob("results/**/*.tsv", recursive=True)))
PY
)

mkdir "$work/voc"
"$py" -c "import sys; from pathlib import Path; sys.path.insert(0, '$repo/tests')
from test_voc_scale import fake_voc, voc_config
w = Path('$work/voc'); fake_voc(w / 'VOC2012'); voc_config(w / 'run', w / 'VOC2012')"
dry=$(seconds "$smk" -n --cores 8 --resources gpu=2 --directory "$work/voc/run" \
      --configfile "$work/voc/run/config.yaml" -- results/iter5/miou.txt)
n_jobs=$(grep -E "^total" "$work/last.log" | awk '{print $2}')

{
    printf "figure\tvalue\tcommand\n"
    printf "default run, 5 iterations (s)\t%.1f\tsnakemake --cores 2 results/iter5/miou.txt\n" "$full"
    printf "jobs' own time, summed (s)\t%.1f\tsum of results/benchmarks/**/*.tsv\n" "$jobs"
    printf "no-op rerun (s)\t%.2f\tsnakemake --cores 2 results/iter5/miou.txt (again)\n" "$noop"
    printf "VOC dry run (s)\t%.2f\tsnakemake -n results/iter5/miou.txt on 10,582 + 1,449 ids\n" "$dry"
    printf "VOC dry run jobs\t%s\t\n" "$n_jobs"
} | tee "$out"
