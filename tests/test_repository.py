"""Repository rules: clean notebooks, quick mode only through stylelab.config, no reads outside the repo."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_committed_without_outputs(nb):
    cells = json.loads(nb.read_text())["cells"]
    dirty = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"{nb.name}: cells {dirty} have outputs; clear them before committing"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_reads_no_environment(nb):
    src = "\n".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code")
    assert not re.search(r"os\.environ|getenv|STYLELAB_QUICK", src), f"{nb.name} reads the environment; use stylelab.config"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_opens_with_lesson_and_ends_with_exercises(nb):
    cells = json.loads(nb.read_text())["cells"]
    assert cells[0]["cell_type"] == "markdown" and "learn" in "".join(cells[0]["source"]).lower()
    text = "\n".join("".join(c["source"]) for c in cells[-6:]).lower()
    assert "exercise" in text, f"{nb.name} should end with exercises"
    asserts = sum("assert" in "".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert asserts >= 2, f"{nb.name} needs assert cells that check the lesson happened"


def test_nothing_reads_the_shared_folder():
    needle = ".." + "/shared"  # spelled in two parts so this file does not match itself
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    offenders = [f for f in files if not f.endswith(".md") and (ROOT / f).is_file()
                 and (ROOT / f).suffix in (".py", ".ipynb", ".cfg", ".ini", ".txt", "")
                 and needle in (ROOT / f).read_text(errors="ignore")]
    assert not offenders


def test_cli_help_and_unknown_method():
    r = subprocess.run([sys.executable, "-m", "stylelab", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode in (0, 2) and "stylize" in r.stdout + r.stderr
