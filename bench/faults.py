"""The fault campaign: what a run survives, and what the user is told.

    python bench/faults.py                      # all five faults
    python bench/faults.py --faults kill,disk --kills 10 --seed 1

A small config (tests/workflow_utils.tiny_config: 16 training images of 48 px, two iterations;
here one training shard, no test split and six classifier epochs, so that a training can be
stopped in the middle) runs `results/iter2/miou.txt` once without any fault, in
bench/results/faults/reference/. Each fault then gets a run of its own next to it, which is
finished the way README.md says; its miou.txt must equal the reference's, and no temporary file
(`.<name>.tmp-<host>-<pid>`) may be left anywhere under its results/:

kill    SIGKILL of Snakemake's whole process group at --kills random moments of one run, each
        followed by the README's resume commands (`snakemake --unlock`, then the command
        again with --rerun-incomplete); after the first kill the command alone must stop with
        Snakemake's "Directory cannot be locked", which is why the README says to unlock.
disk    results/ on a tmpfs too small for the run, grown in steps; every failed run must end
        with the one-line "no space left on device writing <path> (<free> free)" and leave no
        temporary file; then the disk is made large enough and the command run again.
damage  a copy of the reference with one artifact cut to half its size and one with a byte
        flipped inside an array: the next run must stop in the first jobs that read them, with
        the damaged-artifact message naming each file, before any later job ran; then the two
        files are deleted, as the message says, and the command run again.
slurm   the run of `results/iter1/miou.txt` through profiles/slurm (its site settings filled in
        as tests/test_cluster.py does) on a real single-node SLURM (tests/slurm/cluster.sh);
        the classifier's job is killed on its node after its second epoch checkpoint (a
        scancel leaves the SLURM plugin 2.8.0 waiting: it reads "CANCELLED by <uid>" as
        running); the profile's retry must resume it from its last checkpoint and give the
        reference's iter1/miou.txt.
lock    a second Snakemake started on the directory of a running one must refuse with
        Snakemake's lock message, and the first finish as the reference did.

It prints one table row per fault (fault, runs completed afterwards, results identical,
temporary files left) and writes bench/results/faults.json. Mounting a tmpfs and running SLURM
need root (and, for SLURM, Debian's packages, which cluster.sh installs when missing); without
them those faults are skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from workflow_utils import sacct_rows, this_cluster, tiny_config

from mcof.files import is_temporary

RESULTS = REPO / "bench" / "results" / "faults"
TARGET = "results/iter2/miou.txt"
LOCKED = "Directory cannot be locked"
DISK_FULL = re.compile(
    r"no space left on device writing (results/\S+) \([0-9.]+ (B|KiB|MiB|GiB) free\)")
DAMAGED = re.compile(r"artifact (results/\S+) \(stage '(\w+)'\) is damaged \(.+\); "
                     r"delete it and rerun: Snakemake will rebuild it")
FAULTS = ("kill", "disk", "damage", "slurm", "lock")


def campaign_config() -> dict:
    config = tiny_config()
    config["shards"] = {"train": 1, "val": 1, "test": 1}
    config["dataset"]["synthetic"]["n_test"] = 0
    config["classifier"]["epochs"] = 6
    return config


class Workflow:
    """One workflow directory and the snakemake commands run in it."""

    def __init__(self, workdir: Path, snakemake: str):
        self.dir = workdir
        self.snakemake = snakemake
        self.log = workdir / "campaign.log"

    def command(self, *args: str) -> list[str]:
        return [self.snakemake, "--snakefile", str(REPO / "Snakefile"), "--directory",
                str(self.dir), "--configfile", str(self.dir / "config.yaml"), *args]

    def _note(self, text: str) -> None:
        with open(self.log, "a") as log:
            log.write(text)

    def run(self, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
        """Run to the end; the output is kept in campaign.log."""
        self._note(f"\n$ snakemake {' '.join(args)}\n")
        proc = subprocess.run(self.command(*args), capture_output=True, text=True,
                              timeout=timeout, env=ENV)
        self._note(proc.stdout + proc.stderr + f"[exit {proc.returncode}]\n")
        return proc

    def start(self, *args: str) -> subprocess.Popen:
        """Start in a process group of its own, so that a kill takes its jobs down with it."""
        self._note(f"\n$ snakemake {' '.join(args)} &\n")
        log = open(self.log, "a")
        return subprocess.Popen(self.command(*args), stdout=log, stderr=subprocess.STDOUT,
                                env=ENV, start_new_session=True)

    def resume(self) -> subprocess.CompletedProcess:
        """README.md, "Resuming after a kill": unlock, then the command with --rerun-incomplete."""
        self.run("--unlock")
        return self.run("--cores", "2", "--rerun-incomplete", TARGET)

    def temporaries(self) -> list[Path]:
        found = []
        for top, dirs, files in os.walk(self.dir / "results"):
            found += [Path(top, name) for name in dirs + files if is_temporary(Path(name))]
        return found

    def text(self, path: str) -> str | None:
        file = self.dir / path
        return file.read_text() if file.exists() else None


ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def fresh(name: str, snakemake: str) -> Workflow:
    workdir = RESULTS / name
    if (workdir / "results").is_mount():
        subprocess.run(["umount", "-l", str(workdir / "results")], check=True)
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    (workdir / "config.yaml").write_text(yaml.safe_dump(campaign_config(), sort_keys=False))
    return Workflow(workdir, snakemake)


def copy_of(ref: Workflow, name: str, snakemake: str, remove: tuple[str, ...] = ()) -> Workflow:
    """A copy of the finished reference run (Snakemake's records included), less `remove`."""
    flow = fresh(name, snakemake)
    shutil.rmtree(flow.dir)
    shutil.copytree(ref.dir, flow.dir, symlinks=True)
    flow.log.unlink(missing_ok=True)
    for path in map(flow.dir.joinpath, remove):
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    return flow


def row(fault: str, completed: int, identical: bool, left: list[Path], **details) -> dict:
    return {"fault": fault, "runs_completed": completed, "identical": identical,
            "temporary_files_left": len(left), **details}


def expect(condition: bool, what: str, flow: Workflow) -> None:
    if not condition:
        raise SystemExit(f"fault campaign: {what} (see {flow.log})")


def reference_run(snakemake: str) -> tuple[Workflow, float]:
    flow = fresh("reference", snakemake)
    began = time.monotonic()
    proc = flow.run("--cores", "2", TARGET)
    expect(proc.returncode == 0, "the reference run failed", flow)
    return flow, time.monotonic() - began


def kill_fault(ref: Workflow, seconds: float, kills: int, rng: random.Random,
               snakemake: str) -> dict:
    """Kills at moments drawn over the reference run's duration, counted in the time the
    killed and resumed runs have had together (a resumed run redoes its killed jobs, so it is
    behind the reference and every moment falls inside the run)."""
    flow = fresh("kill", snakemake)
    moments = sorted(rng.uniform(0.03, 0.9) * seconds for _ in range(kills))
    proc, ran, killed, at = flow.start("--cores", "2", TARGET), 0.0, [], []
    lock_seen = False
    for moment in moments:
        leg = time.monotonic()
        while ran + time.monotonic() - leg < moment and proc.poll() is None:
            time.sleep(0.05)
        ran += time.monotonic() - leg
        if proc.poll() is not None:
            break
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        killed.append(round(ran, 1))
        at.append(progress(flow))
        if not lock_seen and any((flow.dir / ".snakemake/locks").glob("*")):
            # killed while holding its lock (not while still building the DAG)
            alone = flow.run("--cores", "2", "--rerun-incomplete", TARGET)
            lock_seen = alone.returncode != 0 and LOCKED in alone.stdout + alone.stderr
            expect(lock_seen, "after a kill the command alone did not stop at the lock", flow)
        expect(flow.run("--unlock").returncode == 0, "snakemake --unlock failed", flow)
        proc = flow.start("--cores", "2", "--rerun-incomplete", TARGET)
    expect(proc.wait() == 0, "the last resumed run failed", flow)
    return row("SIGKILL of the Snakemake process group at random moments, each resumed with "
               "--unlock and --rerun-incomplete", 1, flow.text(TARGET) == ref.text(TARGET),
               flow.temporaries(), kills=len(killed), killed_after_s=killed, jobs_done_at_kill=at,
               lock_message_without_unlock=lock_seen)


def progress(flow: Workflow) -> str:
    """The last 'k of n steps' line Snakemake wrote."""
    steps = re.findall(r"(\d+ of \d+) steps", flow.log.read_text())
    return steps[-1] if steps else "0"


def mount_tmpfs(path: Path, size: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" if not path.is_mount() else f"remount,size={size}"
    args = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)]
    if path.is_mount():
        args = ["mount", "-o", options, str(path)]
    subprocess.run(args, check=True, capture_output=True)


def disk_fault(ref: Workflow, steps: list[float], snakemake: str) -> dict:
    """results/ on a tmpfs of the given fractions of the reference's results/, then big enough."""
    flow = fresh("disk", snakemake)
    full = sum(f.stat().st_size for f in (ref.dir / "results").rglob("*") if f.is_file())
    failures, left_after_failures = [], 0
    try:
        for fraction in steps:
            mount_tmpfs(flow.dir / "results", int(fraction * full) // 4096 * 4096)
            proc = flow.run("--cores", "2", "--rerun-incomplete", TARGET)
            expect(proc.returncode != 0, f"the run fitted in {fraction:.0%} of the space", flow)
            out = proc.stdout + proc.stderr
            written = DISK_FULL.findall(out)
            errors = re.findall(r"ERROR mcof: failed: (\w+): (.*)", out)
            expect(bool(written) and all(kind == "DiskFullError" for kind, _ in errors),
                   "a job on a full disk failed without the disk-full line", flow)
            expect("Errno 28" not in out and "unexpected pos" not in out,
                   "a library's own disk-full error reached the user", flow)
            failures.append(sorted({path for path, _ in written}))
            left_after_failures += len(flow.temporaries())
        mount_tmpfs(flow.dir / "results", 4 * full)
        proc = flow.run("--cores", "2", "--rerun-incomplete", TARGET)
        expect(proc.returncode == 0, "the run failed after the disk was freed", flow)
        return row("full disk (results/ on a tmpfs) at several points, then space freed and "
                   "the command run again", 1, flow.text(TARGET) == ref.text(TARGET),
                   flow.temporaries(), failed_writing=failures,
                   temporary_files_after_failures=left_after_failures)
    finally:
        subprocess.run(["umount", "-l", str(flow.dir / "results")], capture_output=True,
                       check=False)


def flip_inside_array(path: Path, name: str) -> None:
    """Flip one byte in the middle of the stored data of the first image's array `name` (an
    array the next stage reads: each array's checksum is checked when it is read)."""
    import h5py

    with h5py.File(path, "r") as f:
        chunk = f[next(iter(f))][name].id.get_chunk_info(0)
    with open(path, "r+b") as f:
        f.seek(chunk.byte_offset + chunk.size // 2)
        byte = f.read(1)[0]
        f.seek(-1, 1)
        f.write(bytes([byte ^ 0x04]))


def damage_fault(ref: Workflow, snakemake: str) -> dict:
    """Two artifacts that no job makes from the other, so that the run meets both (with
    --keep-going, each in the first job that reads it)."""
    flow = copy_of(ref, "damage", snakemake)
    truncated, flipped = "results/iter2/train_masks/shard0.h5", "results/iter2/val_masks/shard0.h5"
    with open(flow.dir / truncated, "r+b") as f:
        f.truncate((flow.dir / truncated).stat().st_size // 2)
    flip_inside_array(flow.dir / flipped, "mask")
    before = {p: p.stat().st_mtime_ns for p in (flow.dir / "results").rglob("*")
              if p.is_file() and "logs" not in p.parts and "benchmarks" not in p.parts}
    proc = flow.run("--cores", "2", "--keep-going", TARGET)
    out = proc.stdout + proc.stderr
    named = {path for path, _ in DAMAGED.findall(out)}
    expect(proc.returncode != 0 and named == {truncated, flipped},
           f"the damaged files were not both named (named: {sorted(named)})", flow)
    # no file was made from them (Snakemake removes the outputs of the jobs it reruns)
    rewritten = sorted(str(p.relative_to(flow.dir)) for p, t in before.items()
                       if p.exists() and p.stat().st_mtime_ns != t)
    expect(not rewritten, f"files were rewritten from damaged artifacts: {rewritten}", flow)
    for path in (truncated, flipped):
        (flow.dir / path).unlink()
    proc = flow.run("--cores", "2", TARGET)
    expect(proc.returncode == 0, "the run failed after the damaged files were deleted", flow)
    return row("an artifact cut to half its size and one with a byte flipped in an array: "
               "named, deleted as the message says, the command run again", 1,
               flow.text(TARGET) == ref.text(TARGET), flow.temporaries(),
               messages=sorted(set(m.group(0) for m in DAMAGED.finditer(out))))


def slurm_fault(ref: Workflow, snakemake: str) -> dict:
    flow = fresh("slurm", snakemake)
    state = flow.dir / "slurm"
    started = subprocess.run(["bash", str(REPO / "tests/slurm/cluster.sh"), "start", str(state)],
                             capture_output=True, text=True, timeout=600)
    expect(started.returncode == 0, f"SLURM did not start: {started.stderr[-500:]}", flow)
    ENV["SLURM_CONF"] = started.stdout.strip().splitlines()[-1]
    try:
        profile = flow.dir / "profile"
        shutil.copytree(REPO / "profiles/slurm", profile)
        config = yaml.safe_load((profile / "config.yaml").read_text())
        expect(config.get("retries", 0) >= 1, "profiles/slurm does not retry a failed job", flow)
        this_cluster(config)
        (profile / "config.yaml").write_text(yaml.safe_dump(config))
        target = "results/iter1/miou.txt"
        proc = flow.start("--profile", str(profile), target)
        checkpoints = flow.dir / "results/classifier/checkpoints"
        deadline = time.monotonic() + 600
        while not (checkpoints / "epoch0002.pt").exists():
            expect(proc.poll() is None and time.monotonic() < deadline,
                   "the classifier never reached its second epoch", flow)
            time.sleep(0.02)
        jobs = subprocess.run(["squeue", "-h", "-o", "%i %k"], capture_output=True, text=True,
                              env=ENV).stdout.split("\n")
        killed = [line.split()[0] for line in jobs if "rule_train_classifier" in line]
        expect(bool(killed), "the classifier's job is not in the queue", flow)
        # killed on its node (the OOM killer, a crashed node): scancel itself leaves the SLURM
        # plugin waiting, as it reads the state "CANCELLED by <uid>" as still running
        subprocess.run(["pkill", "-9", "-f", f"{flow.dir}/.snakemake/scripts/.*train_classifier"],
                       check=True, env=ENV)
        cancelled_after = sorted(p.name for p in checkpoints.glob("epoch*.pt"))
        expect(proc.wait(timeout=900) == 0, "the SLURM run failed", flow)
        log = (flow.dir / "results/logs/train_classifier.log").read_text()
        resumed = re.findall(r"resuming after epoch (\d+)", log)
        expect(bool(resumed), "the retried classifier did not resume from a checkpoint", flow)
        # the killed job and its retry (sacct keeps no job comments on this cluster)
        attempts = [job["state"] for job in sacct_rows(ENV) if int(job["id"]) >= int(killed[0])][:2]
        # the reference ran to iteration 2: its iteration-1 miou.txt only needs evaluating
        expect(ref.run("--cores", "2", target).returncode == 0, "reference: " + target, ref)
        return row("the classifier's SLURM job killed mid-training; the profile retries it",
                   1, flow.text(target) == ref.text(target), flow.temporaries(),
                   job_states=attempts, checkpoints_at_cancel=cancelled_after,
                   resumed_after_epoch=int(resumed[-1]))
    finally:
        subprocess.run(["bash", str(REPO / "tests/slurm/cluster.sh"), "stop", str(state)],
                       capture_output=True, timeout=120)
        ENV.pop("SLURM_CONF", None)


def lock_fault(ref: Workflow, snakemake: str) -> dict:
    """The first run makes iteration 2's val predictions and what follows from them again, in a
    copy of the reference; the second starts once the first runs its first job."""
    log = "results/logs/iter2/predict_pixelnet/val_shard0.log"
    flow = copy_of(ref, "lock", snakemake, remove=("results/iter2/val_masks", log))
    first = flow.start("--cores", "2", TARGET)
    while not (flow.dir / log).exists():
        expect(first.poll() is None, "the first run ended before the second started", flow)
        time.sleep(0.05)
    second = flow.run("--cores", "2", TARGET)
    refused = second.returncode != 0 and LOCKED in second.stdout + second.stderr
    expect(refused, "the second Snakemake did not refuse", flow)
    expect(first.wait() == 0, "the first run failed", flow)
    expect("predict_pixelnet" in flow.log.read_text(), "the first run redid nothing", flow)
    return row("a second Snakemake on the directory of a running one: refused with the lock "
               "message, the first finishes", 1, flow.text(TARGET) == ref.text(TARGET),
               flow.temporaries())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faults", default=",".join(FAULTS))
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--disk-steps", default="0.1,0.35,0.7",
                        help="tmpfs sizes, as fractions of the reference's results/")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--snakemake", default=str(Path(sys.executable).with_name("snakemake")))
    args = parser.parse_args()
    faults = args.faults.split(",")
    root = os.geteuid() == 0
    began = time.monotonic()
    ref, seconds = reference_run(args.snakemake)
    print(f"reference: {seconds:.0f} s, miou.txt {ref.text(TARGET).strip()}", flush=True)
    rows, skipped = [], []
    for fault in faults:
        if fault in ("disk", "slurm") and not root:
            skipped.append(f"{fault} (needs root)")
            continue
        t = time.monotonic()
        if fault == "kill":
            result = kill_fault(ref, seconds, args.kills, random.Random(args.seed), args.snakemake)
        elif fault == "disk":
            steps = [float(x) for x in args.disk_steps.split(",")]
            result = disk_fault(ref, steps, args.snakemake)
        elif fault == "damage":
            result = damage_fault(ref, args.snakemake)
        elif fault == "slurm":
            result = slurm_fault(ref, args.snakemake)
        else:
            result = lock_fault(ref, args.snakemake)
        result["seconds"] = round(time.monotonic() - t)
        rows.append(result)
        print(f"{fault}: {json.dumps(result)}", flush=True)
    total = time.monotonic() - began
    print("\n| fault | runs completed afterwards | results identical | temporary files left |")
    print("| --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['fault']} | {r['runs_completed']} | {'yes' if r['identical'] else 'no'} "
              f"| {r['temporary_files_left']} |")
    print(f"\n{len(rows)} faults in {total:.0f} s (reference run {seconds:.0f} s)"
          + (f"; skipped: {', '.join(skipped)}" if skipped else ""))
    out = RESULTS.parent / "faults.json"
    out.write_text(json.dumps({"seconds": round(total), "reference_seconds": round(seconds),
                               "seed": args.seed, "rows": rows, "skipped": skipped}, indent=1))
    if not all(r["identical"] and r["temporary_files_left"] == 0 for r in rows):
        raise SystemExit("fault campaign: a row is not 'identical, 0 left'")


if __name__ == "__main__":
    main()
