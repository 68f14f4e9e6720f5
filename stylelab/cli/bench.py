"""``python -m stylelab bench [methods...]``.

With one method that has its own report (``stylelab/bench/<method>.py`` defining ``main(argv)``),
that report runs. Otherwise the arena (``stylelab/bench/arena.py``; ``bench arena ...`` names it)
compares the named methods, or all of them.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys

from ..bench import arena


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    names = [a for a in argv if not a.startswith("-") and a.isidentifier()]  # not option values
    first = argv[0] if argv and not argv[0].startswith("-") else None
    if first == "arena":   # ``bench arena din adain``: the arena by its name
        return int(arena.main(argv[1:]) or 0)
    if first and len(names) >= 1 and importlib.util.find_spec(f"stylelab.bench.{first}") is not None \
            and not (len([n for n in names if importlib.util.find_spec(f"stylelab.methods.{n}")]) > 1):
        return int(importlib.import_module(f"stylelab.bench.{first}").main(argv[1:]) or 0)
    return int(arena.main(argv) or 0)
