"""``python -m stylelab demo``: the gallery of every method on the bundled assets, and the arena table.

Writes ``docs/gallery.png`` (rows: content/style pairs; columns: the inputs, then each method) and
``docs/arena.md``, and prints the table. Offline. A method whose checkpoint does not ship gets a
tile saying so instead of a picture from random weights.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from .. import config, methods
from ..bench import arena
from ..errors import StylelabError
from ..plots import gallery

ROOT = Path(__file__).resolve().parent.parent.parent


def settings(names, controls: dict | None = None) -> str:
    """The controls the arena ran each method with, in words: "gatys steps=20, metastyle steps=20 ..."."""
    parts = []
    for name in names:
        try:
            mod = methods.get(name)
        except StylelabError:
            continue
        ctl = {k: v for k, v in arena.controls_for(name, mod, controls).items() if k not in ("progress", "cache")}
        if ctl:
            parts.append(f"{name} " + " ".join(f"{k}={v}" for k, v in ctl.items()))
    return "controls: " + ", ".join(parts) if parts else "no extra controls"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m stylelab demo", description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(ROOT / "docs"), help="folder for gallery.png and arena.md")
    p.add_argument("--size", type=int, default=config.pick(256, 64))
    p.add_argument("--gatys-steps", type=int, default=config.pick(150, 5), help="L-BFGS steps for the gallery")
    p.add_argument("--table-gatys-steps", type=int, default=config.pick(20, 3),
                   help="L-BFGS steps for the arena table (its time grows with them)")
    p.add_argument("--runs", type=int, default=config.pick(3, 1))
    p.add_argument("--methods", nargs="*", default=None)
    p.add_argument("--no-table", action="store_true", help="skip the timing table")
    p.add_argument("--update", nargs="+", default=None, metavar="METHOD",
                   help="re-measure only these methods' table rows and keep the others from arena.json "
                        "(the gallery is always drawn for every method)")
    a = p.parse_args(argv)
    names = a.methods or methods.available()
    dev = config.device()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    pairs = list(arena.DEFAULT_PAIRS)
    fig = gallery(pairs, names, a.size, dev, {"gatys": {"steps": a.gatys_steps}})
    fig.savefig(out / "gallery.png", dpi=90)
    print(f"wrote {out / 'gallery.png'}")
    if not a.no_table:
        measured = a.update or names
        controls = {"gatys": {"steps": a.table_gatys_steps}}
        rows = arena.run(measured, sizes=(a.size, 2 * a.size), runs=a.runs, device=dev, controls=controls,
                         flop_sizes=(a.size, 2 * a.size))
        if a.update and (out / "arena.json").is_file():
            new = {r["method"]: r for r in rows}
            old = {r["method"]: r for r in json.loads((out / "arena.json").read_text())}
            rows = [new.get(n) or old[n] for n in names if n in new or n in old]
        table = arena.markdown(rows)
        (out / "arena.md").write_text(
            f"Measured by `python -m stylelab demo` on {dev} with torch {torch.__version__} "
            f"({torch.get_num_threads()} threads); {settings(measured, controls)}; "
            f"times in ms per image, memory in MiB.\n\n{table}\n")
        (out / "arena.json").write_text(json.dumps(rows, indent=2))
        print(table)
    return 0
