"""A training's per-epoch record as CSV: written after every epoch beside the model file, read by
the report and the run record. Needs no torch (the report's environment has none)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from mcof.files import write_text

HISTORY_COLUMNS = ("epoch", "loss", "accuracy", "lr", "seconds", "device")
"""epoch (1-based), mean training loss, accuracy (the training's own measure: exact label sets for
the classifier, labelled pixels or regions for PixelNet and RegionNet, labelled pairs for the
affinity net; empty where it has none), the learning rate of the epoch's last step, seconds, and
the device it ran on."""


def write_history(path: str | Path, rows: list[dict]) -> None:
    """Write every epoch's row (atomically: a reader never sees half a file)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, HISTORY_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, out.getvalue())


def read_history(path: str | Path) -> list[dict]:
    """The rows of a history CSV: numbers as int / float, an empty accuracy as None."""
    rows = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            rows.append({"epoch": int(row["epoch"]), "loss": float(row["loss"]),
                         "accuracy": float(row["accuracy"]) if row["accuracy"] else None,
                         "lr": float(row["lr"]), "seconds": float(row["seconds"]),
                         "device": row["device"]})
    return rows
