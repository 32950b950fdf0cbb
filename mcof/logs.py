"""Logging set-up for a stage run as a workflow job."""

from __future__ import annotations

import atexit
import logging
import resource
import sys
import traceback
from pathlib import Path


def log_to_file(path: str | Path | None, level: int = logging.INFO) -> None:
    """Send log records to the job's log file and to stderr; uncaught errors go to both too.

    A failed job's log then ends with the error that stopped it, a finished one with its peak
    memory (Snakemake's benchmark files miss the peak of jobs shorter than its sampling period).
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(path, mode="w"))
    logging.basicConfig(level=level, handlers=handlers, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.captureWarnings(True)

    def excepthook(kind, value, tb):
        logging.getLogger("mcof").error(
            "failed: %s: %s\n%s", kind.__name__, value, "".join(traceback.format_tb(tb)))

    sys.excepthook = excepthook
    atexit.register(log_peak_memory)


def log_peak_memory() -> None:
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    logging.getLogger("mcof").info("peak memory %.0f MiB", peak_mib)
