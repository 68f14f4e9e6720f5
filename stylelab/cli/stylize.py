"""``python -m stylelab stylize METHOD CONTENT STYLE -o OUT.png``: stylise one image with any method."""
from __future__ import annotations

import argparse
import json

from .. import arguments, assets, images, methods, train
from ..errors import ArgumentError


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m stylelab stylize", description=__doc__.splitlines()[0])
    p.add_argument("method", help=f"one of {', '.join(methods.NAMES)}")
    p.add_argument("content", help="image file or bundled asset name")
    p.add_argument("style", help="image file, bundled asset name, or a style the model was trained on")
    p.add_argument("-o", "--out", default="stylized.png")
    arguments.add_size(p, 512, "long side of the output")
    arguments.add_model(p)
    p.add_argument("--controls", default="{}", help='method controls as JSON, e.g. \'{"alpha": 0.7}\'')
    a = p.parse_args(argv)
    mod = methods.get(a.method)
    try:
        kw = json.loads(a.controls)
    except ValueError as e:
        raise ArgumentError(f"--controls {a.controls!r} is not JSON ({e}); e.g. '{{\"alpha\": 0.7}}'") from None
    if not isinstance(kw, dict):
        raise ArgumentError(f"--controls {a.controls!r} must be a JSON object of control names and values")
    if a.model:
        kw["model"] = train.load_model(mod, a.model)
    content = assets.resolve(a.content, a.size)
    # a picture for the arbitrary-style methods; the name of a trained style for the others
    style = assets.resolve(a.style, a.size) if mod.STYLE_INPUT == methods.STYLE_IMAGE else a.style
    images.save(mod.stylize(content, style, **kw), a.out)
    print(f"wrote {a.out}")
    return 0
