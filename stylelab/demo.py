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

from . import assets, config
from .bench import arena

ROOT = Path(__file__).resolve().parent.parent


def gallery(pairs, names, size: int, gatys_steps: int, device):
    """A matplotlib figure: one row per (content, style) pair, one column per method."""
    import matplotlib
    import matplotlib.pyplot as plt
    from tqdm.auto import tqdm

    entries = arena.entries(names, device, gatys_steps)
    cols = ["content", "style"] + [e.name for e in entries]
    fig, axes = plt.subplots(len(pairs), len(cols), figsize=(2.3 * len(cols), 2.3 * len(pairs)), squeeze=False)
    bar = tqdm(total=len(pairs) * len(entries), desc="gallery", leave=False)
    for r, (c_name, s_name) in enumerate(pairs):
        c, s = assets.load(c_name, size).to(device), assets.load(s_name, size).to(device)
        tiles = [c, s]
        for e in entries:
            if e.run_named is not None:   # a single-style network: its picture only for its own style
                out = e.run_named(c, s_name)
                tiles.append(out.detach().cpu() if out is not None else f"not trained on {s_name}")
            else:
                tiles.append(e.run(c, s).detach().cpu() if e.run is not None else e.status)
            bar.update()
        for k, (ax, tile) in enumerate(zip(axes[r], tiles)):
            ax.set_xticks([]), ax.set_yticks([])
            for side in ax.spines.values():
                side.set_visible(False)
            if isinstance(tile, torch.Tensor):
                ax.imshow(tile[0].permute(1, 2, 0).clamp(0, 1).cpu().numpy())
            else:
                ax.set_facecolor("#f1f1f1")
                ax.text(0.5, 0.5, tile.replace(" ", "\n"), ha="center", va="center", fontsize=10, color="#777",
                        transform=ax.transAxes)
            if r == 0:
                ax.set_title(cols[k], fontsize=11)
    bar.close()
    fig.tight_layout()
    return fig


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
    from . import methods
    names = a.methods or methods.available()
    dev = config.device()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    pairs = list(arena.DEFAULT_PAIRS)
    fig = gallery(pairs, names, a.size, a.gatys_steps, dev)
    fig.savefig(out / "gallery.png", dpi=90)
    print(f"wrote {out / 'gallery.png'}")
    if not a.no_table:
        measured = a.update or names
        rows = arena.run(measured, sizes=(a.size, 2 * a.size), runs=a.runs, device=dev,
                         gatys_steps=a.table_gatys_steps, flop_sizes=(a.size, 2 * a.size))
        if a.update and (out / "arena.json").is_file():
            new = {r["method"]: r for r in rows}
            old = {r["method"]: r for r in json.loads((out / "arena.json").read_text())}
            rows = [new.get(n) or old[n] for n in names if n in new or n in old]
        table = arena.markdown(rows)
        (out / "arena.md").write_text(
            f"Measured by `python -m stylelab demo` on {dev} with torch {torch.__version__} "
            f"({torch.get_num_threads()} threads); Gatys with {a.table_gatys_steps} L-BFGS steps, "
            f"MetaStyle adapting 20 steps per style; times in ms per image, memory in MiB.\n\n{table}\n")
        (out / "arena.json").write_text(json.dumps(rows, indent=2))
        print(table)
    return 0
