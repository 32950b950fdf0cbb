"""The commands the documentation shows work when pasted.

Snakemake's --resources (like --config, --set-resources and the other KEY=VALUE options) takes
every word after it, so `snakemake --cores 8 --resources gpu=2 results/iter5/miou.txt` reads the
target as a resource and stops with a ValueError before any Snakefile runs. Every snakemake
command of README.md runs here as a dry run, in a directory laid out as a checkout (config.yaml,
profiles/, examples/ with a fake VOC tree under it), and the literal form above is the one
that fails.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from test_coco_scale import fake_coco
from test_own_dataset import CLASSES, make_folder
from test_voc_scale import fake_voc
from workflow_utils import ROOT, SNAKEMAKE

LITERAL = "snakemake --cores 8 --resources gpu=2 results/iter5/miou.txt"
"""What users type first: the target after --resources."""
RESOURCE_ERROR = "dictionary update sequence element #1 has length 1; 2 is required"

DOCUMENTS = ["README.md", "BENCHMARKS.md", "bench/README.md", *sorted(
    str(p.relative_to(ROOT)) for pattern in ("bench/*.sh", "examples/*.yaml", "profiles/**/*",
                                             "report/*.rst", "config.yaml")
    for p in ROOT.glob(pattern) if p.is_file())]

ASSIGNMENT_OPTIONS = ("--resources", "--res", "--default-resources", "--default-res",
                      "--set-resources", "--set-threads", "--set-scatter", "--config", "-C")
"""Options whose values are KEY=VALUE words and that take every word after them."""
_WORD_AFTER_ASSIGNMENTS = re.compile(
    r"(?<![\w-])(" + "|".join(re.escape(o) for o in ASSIGNMENT_OPTIONS) + r")"
    r"((?:[ \t]+[^\s`'\"=]+=[^\s`'\"]+)+)[ \t]+([^\s`'\"\\#-][^\s`'\"]*)")
_WORD_AFTER_CONFIGFILE = re.compile(
    r"(?<![\w-])--configfiles?[ \t]+\S+\.(?:ya?ml|json)[ \t]+([^\s`'\"\\#-][^\s`'\"]*)")


def swallowed_words(text: str) -> list[str]:
    """Words a KEY=VALUE option (or --configfile) would take as its own although they are
    targets: 'OPTION K=V ... WORD' with a WORD that is neither an option nor K=V."""
    text = text.replace("\\\n", " ")
    found = [f"{m[1]}{m[2]} {m[3]}" for m in _WORD_AFTER_ASSIGNMENTS.finditer(text)]
    found += [m[0] for m in _WORD_AFTER_CONFIGFILE.finditer(text)
              if not re.search(r"\.(ya?ml|json)$", m[1])]
    return found


def test_the_scanner_finds_a_target_after_an_assignment_option():
    assert swallowed_words(LITERAL) == ["--resources gpu=2 results/iter5/miou.txt"]
    assert swallowed_words("snakemake --config a=1 b=2 all") == ["--config a=1 b=2 all"]
    assert swallowed_words("snakemake --configfile a.yaml results/x.txt")
    for fine in ("snakemake --cores 8 results/iter5/miou.txt --resources gpu=2",
                 "snakemake --cores 8 --resources gpu=2 -- results/iter5/miou.txt",
                 "`--resources gpu=N` lets N of them run at once",
                 "snakemake -n --resources gpu=2 --directory run \\\n    --configfile run/c.yaml b.yaml -- x",
                 "snakemake --configfile examples/voc2012.yaml --cores 8"):
        assert swallowed_words(fine) == [], fine


def test_no_document_shows_a_target_after_resources():
    """README, BENCHMARKS, bench/, examples/, profiles/, the report's captions and
    config.yaml's comments."""
    assert "README.md" in DOCUMENTS and "profiles/local/config.yaml" in DOCUMENTS
    bad = {doc: swallowed_words((ROOT / doc).read_text()) for doc in DOCUMENTS}
    assert not {doc: words for doc, words in bad.items() if words}
    assert LITERAL not in (ROOT / "README.md").read_text()


def readme_commands() -> list[str]:
    """Every snakemake command of README.md (code blocks and inline code), as typed after the
    word snakemake, except --report (which needs a finished run)."""
    text = (ROOT / "README.md").read_text()
    spans = re.findall(r"```bash\n(.*?)```", text, re.S)
    spans += [s.replace("\n", " ") for s in re.findall(r"(?<!`)`([^`]+)`(?!`)", text)]
    commands = []
    for span in spans:
        for line in span.splitlines():
            for part in re.split(r"&&|;|\|", line):
                m = re.match(r"\s*(?:\S*/)?snakemake(?: (.*))?$", part.rstrip())
                if m and "--report" not in (m[1] or "") and (m[1] or "") not in commands:
                    commands.append(m[1] or "")
    return commands


@pytest.fixture(scope="module")
def checkouts(tmp_path_factory):
    """Two directories laid out as a checkout: the default config; and the default config with
    examples/voc2012.yaml pointing at a fake VOC tree of train_aug's size (test_voc_scale)."""
    base = tmp_path_factory.mktemp("checkouts")
    default, voc = base / "default", base / "voc"
    for work in (default, voc):
        work.mkdir()
        shutil.copy(ROOT / "config.yaml", work / "config.yaml")
        shutil.copytree(ROOT / "profiles", work / "profiles")
    fake_voc(base / "VOC2012")
    overlay = yaml.safe_load((ROOT / "examples" / "voc2012.yaml").read_text())
    overlay["dataset"]["root"] = str(base / "VOC2012")
    (voc / "examples").mkdir()
    (voc / "examples" / "voc2012.yaml").write_text(yaml.safe_dump(overlay))
    # the README's folder overlay (its my_dataset.yaml block), on a folder the test makes
    folder = base / "folder"
    shutil.copytree(default, folder)
    block = re.search(r"```yaml\n# my_dataset.yaml\n(.*?)```", (ROOT / "README.md").read_text(),
                      re.S)[1]
    mine = yaml.safe_load(block)
    mine["dataset"]["root"] = str(base / "photos")
    make_folder(base / "photos")
    assert mine["dataset"]["classes"] == CLASSES
    (folder / "my_dataset.yaml").write_text(yaml.safe_dump(mine))
    # examples/coco2014.yaml on stub annotation files of COCO's size (test_coco_scale)
    coco = base / "coco"
    shutil.copytree(default, coco)
    fake_coco(base / "COCO")
    overlay = yaml.safe_load((ROOT / "examples" / "coco2014.yaml").read_text())
    overlay["dataset"].update(root=str(base / "COCO"), train_list="train.txt", val_list="val.txt")
    (coco / "examples").mkdir()
    (coco / "examples" / "coco2014.yaml").write_text(yaml.safe_dump(overlay))
    return {"default": default, "voc": voc, "folder": folder, "coco": coco}


def pasted(args: str, workdir: Path) -> subprocess.CompletedProcess:
    """`snakemake ARGS` as a user pastes it in a checkout, as a dry run: -n and the Snakefile's
    path go before the pasted words, which keep their order."""
    cmd = [SNAKEMAKE, "--snakefile", str(ROOT / "Snakefile"), "-n", *shlex.split(args)]
    return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=600)


def checkout_for(args: str, checkouts) -> Path:
    for overlay, name in (("examples/voc2012.yaml", "voc"), ("my_dataset.yaml", "folder"),
                          ("examples/coco2014.yaml", "coco")):
        if overlay in args:
            return checkouts[name]
    return checkouts["default"]


@pytest.mark.slow
def test_every_readme_command_works_when_pasted(checkouts):
    commands = readme_commands()
    voc = [c for c in commands if "examples/voc2012.yaml" in c]
    # the main command; and the VOC command in each form: targets before --resources, after
    # --, left to rule all, and through profiles/local (which sets gpu=2)
    assert "--cores 2 results/iter5/miou.txt" in commands
    assert any(re.search(r"results/iter5/miou.txt --resources gpu=2$", c) for c in voc), voc
    assert any(c.endswith("--resources gpu=2 -- results/iter5/miou.txt") for c in voc), voc
    assert any(c.endswith("--resources gpu=2") and "miou" not in c for c in voc), voc
    assert any("--profile profiles/local" in c for c in voc), voc
    for args in commands:
        proc = pasted(args, checkout_for(args, checkouts))
        assert proc.returncode == 0, f"snakemake {args}\n{proc.stderr[-3000:]}"
        out = proc.stdout + proc.stderr
        done = ("Unlocked working directory",) if "--unlock" in args else (
            "This was a dry-run", "Nothing to be done")
        assert any(line in out for line in done), args
        if "miou.txt" in args and "examples/voc2012.yaml" in args:
            assert re.search(r"train_pixelnet\s+5\b", out), args


@pytest.mark.slow
def test_the_target_after_resources_is_the_form_that_fails(checkouts):
    """The literal form fails on the default config and on the VOC overlay, with Snakemake's
    ValueError, while the documented form of the same command runs."""
    literal = LITERAL.removeprefix("snakemake ")
    for args in (literal, f"--configfile examples/voc2012.yaml {literal}"):
        proc = pasted(args, checkout_for(args, checkouts))
        assert proc.returncode != 0 and RESOURCE_ERROR in proc.stderr, args
        fixed = args.replace("--resources gpu=2 results/iter5/miou.txt",
                             "results/iter5/miou.txt --resources gpu=2")
        assert pasted(fixed, checkout_for(fixed, checkouts)).returncode == 0, fixed
