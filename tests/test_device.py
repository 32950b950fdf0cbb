import logging
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from mcof.training import device
from mcof.training.device import choose_device, claim_slot, own_slot, scheduler_assigned_gpus


def test_two_jobs_get_different_slots_and_a_third_waits(tmp_path):
    a, lock_a = claim_slot(2, tmp_path)
    b, lock_b = claim_slot(2, tmp_path)
    assert {a, b} == {0, 1}
    with pytest.raises(TimeoutError):
        claim_slot(2, tmp_path, wait_seconds=0.2, poll=0.05)
    lock_a.close()
    again, lock_c = claim_slot(2, tmp_path, wait_seconds=1)
    assert again == a
    lock_b.close()
    lock_c.close()


def test_a_process_keeps_its_slot_for_a_second_training(tmp_path, monkeypatch):
    """Two trainings in one process: the second gets the slot the first holds at once (it used
    to wait for its own lock), and another process still finds it taken."""
    monkeypatch.setattr(device, "_held_slots", {})
    first, handle = own_slot(1, tmp_path)
    start = time.monotonic()
    assert own_slot(1, tmp_path) == (first, handle) and first == 0
    assert time.monotonic() - start < 1
    code = ("import sys; from pathlib import Path; from mcof.training.device import claim_slot\n"
            "try:\n    claim_slot(1, Path(sys.argv[1]), wait_seconds=0.2, poll=0.05)\n"
            "except TimeoutError:\n    print('taken')")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True)
    assert out.stdout.strip() == "taken", out.stderr
    handle.close()


def test_a_killed_job_frees_its_slot(tmp_path):
    code = ("import sys, time; from pathlib import Path; from mcof.training.device import claim_slot;"
            "i, h = claim_slot(1, Path(sys.argv[1])); print(i, flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "0"
    with pytest.raises(TimeoutError):
        claim_slot(1, tmp_path, wait_seconds=0.2, poll=0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    start = time.monotonic()
    index, handle = claim_slot(1, tmp_path, wait_seconds=5, poll=0.05)
    assert index == 0 and time.monotonic() - start < 5
    handle.close()


def test_cpu_choices(monkeypatch, caplog):
    assert choose_device("cpu").type == "cpu"
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with caplog.at_level(logging.INFO, logger="mcof"):
        assert choose_device("auto").type == "cpu"
    assert "no GPU visible" in caplog.text
    with pytest.raises(RuntimeError, match="no GPU"):
        choose_device("cuda")
    with pytest.raises(ValueError):
        choose_device("tpu")


def test_scheduler_detection(monkeypatch):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    assert not scheduler_assigned_gpus()
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    assert scheduler_assigned_gpus()
