"""The command line: ``python -m stylelab {stylize,train,bench,demo} ...`` (``--help`` on each).

One module per command in this package; ``stylelab.arguments`` holds the arguments they share
(with the benchmark scripts).
"""
from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import StylelabError

COMMANDS = {
    "stylize": ("stylelab.cli.stylize", "stylise an image with any method"),
    "train": ("stylelab.cli.train", "train a method's network"),
    "bench": ("stylelab.cli.bench", "measure methods: time, size, FLOPs, quality"),
    "demo": ("stylelab.cli.demo", "render the gallery of every method on the bundled assets"),
}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        p = argparse.ArgumentParser(prog="python -m stylelab", description="stylelab command line")
        p.add_argument("command", choices=sorted(COMMANDS), help="; ".join(f"{k}: {v[1]}" for k, v in COMMANDS.items()))
        p.parse_args(argv[:1])
        return 2
    module = importlib.import_module(COMMANDS[argv[0]][0])
    try:
        return int(module.main(argv[1:]) or 0)
    except StylelabError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
