"""Networks of trained styles: mixing conditional-IN styles, per-layer weights of the adjustable
network, MetaStyle's adaptation steps."""
from __future__ import annotations

import time

import ipywidgets as W
import torch

from ..assets import resolve
from ..methods import adjustable, cin, metastyle
from .base import Quiet, image_widget, set_image


def cin_mixing_panel(model, content, styles=(0, 1), width: int = 256) -> W.VBox:
    """A slider t in [0, 1] mixing two styles of a conditional-IN network: weights (1 - t, t).

    ``panel.update(t)`` renders and returns the image (``cin.stylize`` with those weights)."""

    a, b = (cin.style_weights(model, s) for s in styles)
    slider = W.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.05, description="mix t",
                           continuous_update=False)
    view = image_widget(width=width)
    caption = W.Label()
    panel = W.VBox([slider, view, caption])
    panel.times_ms = []

    def update(t: float):
        t0 = time.perf_counter()
        out = cin.stylize(content, ((1 - t) * a + t * b)[0].tolist(), model=model)
        set_image(view, out)
        panel.times_ms.append((time.perf_counter() - t0) * 1000)
        caption.value = (f"{1 - t:.2f} x {model.style_names[int(a.argmax())]} + {t:.2f} x "
                         f"{model.style_names[int(b.argmax())]}  ({panel.times_ms[-1]:.0f} ms)")
        panel.output = out
        return out

    slider.observe(lambda ch: update(ch["new"]), names="value")
    panel.slider, panel.view, panel.caption, panel.update = slider, view, caption, update
    update(slider.value)
    return panel


def adjustable_panel(model, content, width: int = 256, seed: int = 0) -> W.VBox:
    """One slider per style layer of an adjustable network (alpha_s), plus a "randomise" button.

    ``panel.update(alpha_s)`` renders with those weights (``adjustable.stylize``), moves the
    sliders to match and returns the image; ``panel.randomize()`` samples alpha_s ~ U(0, 1);
    ``panel.times_ms`` records how long each re-render took."""

    layers = list(model.cfg.style_layers)
    sliders = [W.FloatSlider(value=1.0, min=0.0, max=1.0, step=0.05, description=f"α {l}",
                             continuous_update=False) for l in layers]
    button = W.Button(description="randomise", icon="random")
    view = image_widget(width=width)
    caption = W.Label()
    panel = W.VBox([W.HBox([W.VBox(sliders), button]), view, caption])
    panel.times_ms, quiet = [], Quiet()
    gen = torch.Generator().manual_seed(seed)

    def update(alpha_s=None):
        if alpha_s is None:
            alpha_s = [s.value for s in sliders]
        alpha_s = [float(v) for v in alpha_s]
        t0 = time.perf_counter()
        out = adjustable.stylize(content, alpha_s=alpha_s, model=model)
        set_image(view, out)
        panel.times_ms.append((time.perf_counter() - t0) * 1000)
        with quiet:
            for s, v in zip(sliders, alpha_s):
                s.value = v
        caption.value = ", ".join(f"{l}: {v:.2f}" for l, v in zip(layers, alpha_s)) + \
            f"  (re-rendered in {panel.times_ms[-1]:.0f} ms)"
        panel.output, panel.alpha_s = out, alpha_s
        return out

    def randomize(_=None):
        return update(torch.rand(len(layers), generator=gen).tolist())

    for s in sliders:
        quiet.observe(s, update)
    button.on_click(randomize)
    panel.sliders, panel.button, panel.view, panel.caption = sliders, button, view, caption
    panel.update, panel.randomize = update, randomize
    update()
    return panel


def metastyle_panel(model, content, styles, steps=(0, 100), cfg=None, width: int = 256):
    """Style dropdown + adaptation-steps slider -> ``metastyle.stylize`` of ``content``.

    ``panel.update(style=..., steps=...)`` returns the stylised tensor (and sets the controls).
    """
    style_w = W.Dropdown(options=list(styles), value=list(styles)[0], description="style")
    steps_w = W.IntSlider(value=steps[1], min=steps[0], max=steps[1], description="steps K",
                          continuous_update=False)
    out = image_widget(width=width)
    content = resolve(content, (cfg or metastyle.config_of(model)).size)
    quiet = Quiet()

    def update(style=None, steps=None):
        with quiet:  # setting the controls here must not trigger a second run
            if style is not None:
                style_w.value = style
            if steps is not None:
                steps_w.value = steps
        y = metastyle.stylize(content, style_w.value, model=model, steps=steps_w.value, cfg=cfg,
                              progress=False)
        set_image(out, y)
        return y

    quiet.observe(style_w, update)
    quiet.observe(steps_w, update)
    panel = W.VBox([W.HBox([style_w, steps_w]), out])
    panel.update = update
    update()
    return panel
