"""Gatys et al.'s optimisation with a slider per style layer and the content/style ratio."""
from __future__ import annotations

import ipywidgets as W

from .. import assets, config
from ..methods import gatys
from ..plots import gatys_history, gram_compare
from .base import figure_png, image_widget, set_image


def gatys_panel(content, style, *, layers=("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
                ratio: float = 0.05, steps: int | None = None, size: int | None = None, auto: bool = False):
    """A slider per style-layer weight w_s^l and one for the content/style ratio a/b; ``Run``
    re-runs a short ``gatys.run`` and shows the result, its loss curve and the Gram matrix of the
    chosen layer for result vs style.

    ``panel.update()`` is what the button calls (tests set slider values and call it);
    ``panel.result`` holds the last ``gatys.Result``; ``panel.sliders`` maps layer -> slider.
    """
    steps = steps or config.pick(40, 3)
    size = size or config.pick(128, 48)
    c = assets.resolve(content, size)
    s = assets.resolve(style, size)
    sliders = {l: W.FloatSlider(value=1.0, min=0.0, max=2.0, step=0.1, description=l,
                                continuous_update=False) for l in layers}
    ratio_w = W.FloatLogSlider(value=ratio, base=10, min=-4, max=1, step=0.25,
                               description="content/style", continuous_update=False)
    gram_layer = W.Dropdown(options=list(layers), value=list(layers)[1 if len(layers) > 1 else 0],
                            description="Gram of")
    button = W.Button(description="Run", button_style="primary")
    status = W.Label("")
    out_img, curve_img, gram_img = image_widget(c, width=size * 2), W.Image(format="png"), W.Image(format="png")
    style_weight = gatys.Config().style_weight

    def update(_=None):
        weights = {l: w.value for l, w in sliders.items()}
        status.value = "optimising..."
        result = gatys.run(c, s, layer_weights=weights, style_layers=list(layers),
                           content_weight=ratio_w.value * style_weight, style_weight=style_weight,
                           steps=steps, size=size, progress=False)
        set_image(out_img, result.image)
        curve_img.value = figure_png(gatys_history(result.history, title="losses"))
        gram_img.value = figure_png(gram_compare({"result": result.image, "style": s}, gram_layer.value))
        status.value = f"done: style {result.history[-1]['style']:.3g}, content {result.history[-1].get('content', 0):.3g}"
        box.result = result
        return result

    button.on_click(update)
    if auto:
        for w in list(sliders.values()) + [ratio_w, gram_layer]:
            w.observe(lambda change: update(), names="value")
    controls = W.VBox(list(sliders.values()) + [ratio_w, gram_layer, W.HBox([button, status])])
    box = W.VBox([W.HBox([controls, out_img]), W.HBox([curve_img, gram_img])])
    box.update, box.sliders, box.ratio, box.gram_layer, box.image = update, sliders, ratio_w, gram_layer, out_img
    box.result = None
    return box
