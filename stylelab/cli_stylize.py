"""``python -m stylelab stylize METHOD CONTENT STYLE -o OUT.png``: stylise one image with any method."""
from __future__ import annotations

import argparse
import json

from . import assets, images, methods


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m stylelab stylize", description=__doc__.splitlines()[0])
    p.add_argument("method", help=f"one of {', '.join(methods.NAMES)}")
    p.add_argument("content", help="image file or bundled asset name")
    p.add_argument("style", help="image file, bundled asset name, or a style the model was trained on")
    p.add_argument("-o", "--out", default="stylized.png")
    p.add_argument("--size", type=int, default=512, help="long side of the output (px)")
    p.add_argument("--model", default=None, help="an exported checkpoint to use instead of the shipped one")
    p.add_argument("--controls", default="{}", help='method controls as JSON, e.g. \'{"alpha": 0.7}\'')
    a = p.parse_args(argv)
    mod = methods.get(a.method)
    kw = json.loads(a.controls)
    if a.model:
        from .train import load_model
        kw["model"] = load_model(a.method, a.model)
    content = assets.resolve(a.content, a.size)
    style = a.style if a.method in ("johnson", "cin") else assets.resolve(a.style, a.size)
    out = mod.stylize(content, style, **kw)
    if isinstance(out, tuple):
        out = out[0]
    images.save(out, a.out)
    print(f"wrote {a.out}")
    return 0
