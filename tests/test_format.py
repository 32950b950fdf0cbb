"""The workflow's files are formatted with the settings in pyproject.toml ([tool.snakefmt]);
`snakefmt Snakefile rules/` rewrites them so."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAKEFMT = str(Path(sys.executable).with_name("snakefmt"))


def test_snakefmt_check_passes():
    proc = subprocess.run([SNAKEFMT, "--check", "--diff", "Snakefile", "rules/"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (f"`snakefmt Snakefile rules/` would change:\n"
                                  f"{proc.stdout[-4000:]}{proc.stderr[-2000:]}")
