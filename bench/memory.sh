#!/usr/bin/env bash
# Peak memory (max RSS, from the 'peak memory' line each job logs) of every rule at VOC image size: the
# synthetic dataset at 500x500 (a little above VOC's 500x375), two iterations, one epoch each,
# VOC's superpixel and crop settings, the default tiny networks on the CPU.
#   bench/memory.sh [SNAKEMAKE_BIN]   -> bench/results/memory.tsv
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
smk="${1:-$(command -v snakemake)}"
py="$(dirname "$smk")/python"
work="${BENCH_WORKDIR:-$(mktemp -d)}"
mkdir -p "$work" "$repo/bench/results"
cat > "$work/voc_size.yaml" <<'YAML'
dataset: {synthetic: {n_train: 24, n_val: 8, size: 500, n_classes: 6, max_objects: 3, seed: 0}}
comparisons: {}
iterations: 2
report_samples: 2
classifier: {epochs: 1, crop: 321}
regionnet: {epochs: 1}
pixelnet: {epochs: 1, crop: 321}
superpixels: {scale: 300, sigma: 0.8, min_size: 100}
saliency: {pixels_per_region: 200}
YAML
cp "$repo/config.yaml" "$work/config.yaml"
"$smk" --snakefile "$repo/Snakefile" --directory "$work" --cores 2 \
    --configfile "$work/config.yaml" "$work/voc_size.yaml" -- results/iter2/miou.txt > "$work/run.log" 2>&1
cd "$work"
"$py" - "$repo/bench/results/memory.tsv" <<'PY'
import glob, re, sys
peak = {}
for path in glob.glob("results/logs/**/*.log", recursive=True):
    rule = re.sub(r"^results/logs/(iter\d+/)?", "", path).split("/")[0].removesuffix(".log")
    for mib in re.findall(r"peak memory (\d+) MiB", open(path).read()):
        peak[rule] = max(peak.get(rule, 0), int(mib))
with open(sys.argv[1], "w") as out:
    out.write("rule\tpeak_rss_mib\n")
    for rule, mib in sorted(peak.items(), key=lambda item: -item[1]):
        out.write(f"{rule}\t{mib}\n")
print(open(sys.argv[1]).read())
PY
