"""ipywidgets panels: thin wrappers over library functions.

Each panel is built by a function that returns the widget box, and keeps the function its controls
call as an attribute (``panel.update``) so tests can drive exactly what a slider does. Each lesson
adds its panel in its own section below.
"""
from __future__ import annotations

import io

import ipywidgets as W
import torch


def image_widget(x: torch.Tensor | None = None, width: int = 256) -> W.Image:
    """An ipywidgets Image showing tensor ``x`` (updates with ``set_image``)."""
    w = W.Image(format="png", width=width)
    if x is not None:
        set_image(w, x)
    return w


def set_image(widget: W.Image, x: torch.Tensor) -> None:
    """Show tensor ``x`` (1,3,H,W) in [0,1] in an ipywidgets Image."""
    from .images import to_pil
    buf = io.BytesIO()
    to_pil(x).save(buf, format="PNG")
    widget.value = buf.getvalue()


def live_panel(controls: list, compute, width: int = 256) -> W.VBox:
    """Controls on the left, the picture ``compute()`` returns on the right, recomputed whenever a
    control's value changes. An error (say, every style weight at zero) is shown under the controls
    as one line instead of a traceback, and the last good picture stays. The panel keeps
    ``.image``, ``.update``, ``.compute``, ``.output`` (the last tensor) and ``.calls``."""
    image, status = image_widget(width=width), W.Label()

    def update(*_):
        try:
            panel.output = compute()
        except Exception as e:  # show the problem next to the controls instead of a traceback
            status.value = f"{type(e).__name__}: {e}"
            return
        status.value = ""
        panel.calls += 1
        set_image(image, panel.output)

    for c in controls:
        c.observe(update, names="value")
    panel = W.VBox([W.HBox([W.VBox(controls), image]), status])
    panel.image, panel.status, panel.update, panel.compute = image, status, update, compute
    panel.calls, panel.output = 0, None
    update()
    return panel


def figure_png(fig) -> bytes:
    """A matplotlib figure as PNG bytes (closes it), for an ipywidgets Image."""
    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


# ---------------------------------------------------------------- lesson 01: Gatys panel

def gatys_panel(content, style, *, layers=("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
                ratio: float = 0.05, steps: int | None = None, size: int | None = None, auto: bool = False):
    """A slider per style-layer weight w_s^l and one for the content/style ratio a/b; ``Run``
    re-runs a short ``gatys.run`` and shows the result, its loss curve and the Gram matrix of the
    chosen layer for result vs style.

    ``panel.update()`` is what the button calls (tests set slider values and call it);
    ``panel.result`` holds the last ``gatys.Result``; ``panel.sliders`` maps layer -> slider.
    """
    from . import assets, config
    from .methods import gatys
    from .plots import gatys_history, gram_compare
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


# ---------------------------------------------------------------- 07 dynamic style kernels

def attention_pixel_panel(model, content: torch.Tensor, style: torch.Tensor):
    """Pick a content position (relu4_1 grid) with two sliders; shows its SAE attention over the
    style image. ``panel.update(y, x)`` returns the attention map it drew (also ``panel.amap``)."""
    from .plots import attention_overlay
    with torch.no_grad():
        fc, fs = model.encode(content), model.encode(style)
    gh, gw = fc.shape[-2:]
    ys = W.IntSlider(value=gh // 2, min=0, max=gh - 1, description="row", continuous_update=False)
    xs = W.IntSlider(value=gw // 2, min=0, max=gw - 1, description="column", continuous_update=False)
    img = W.Image(format="png")

    def update(y=None, x=None):
        y = ys.value if y is None else int(y)
        x = xs.value if x is None else int(x)
        with torch.no_grad():
            amap = model.attention_map(fc, fs, y, x)
        img.value = figure_png(attention_overlay(content, style, amap, (y, x), (gh, gw)))
        box.amap = amap
        return amap

    for s in (ys, xs):
        s.observe(lambda change: update(), names="value")
    box = W.VBox([W.HBox([ys, xs]), img])
    box.update, box.rows, box.cols, box.image = update, ys, xs, img
    update()
    return box


# ---------------------------------------------------------------- AdaIN (notebook 03)

def adain_mask(kind: str, content: torch.Tensor, threshold: float = 0.5) -> torch.Tensor | None:
    """A spatial-control mask (H,W) for the first style: 'left/right' halves, 'luminance' above
    ``threshold``, or None for 'none'."""
    from .images import luminance
    h, w = content.shape[-2:]
    if kind == "none":
        return None
    if kind == "left/right":
        m = torch.zeros(h, w)
        m[:, : w // 2] = 1.0
        return m
    if kind == "luminance":
        return (luminance(content)[0, 0] > threshold).float()
    from .errors import ArgumentError
    raise ArgumentError(f"mask kind {kind!r} is unknown; use 'none', 'left/right' or 'luminance'")


def adain_panel(content: torch.Tensor, styles, model, width: int = 256) -> W.VBox:
    """AdaIN controls over ``stylelab.methods.adain.stylize``: an alpha slider, one weight slider
    per style (interpolation, 1-4 styles), the colour toggle and a spatial mask (first style inside
    the mask, second outside). The styles are encoded once.

    ``panel.update()`` recomputes with the current values and shows the result in ``panel.image``;
    ``panel.output`` is the last stylised tensor, ``panel.calls`` counts updates.
    """
    from .methods import adain
    styles = list(styles) if isinstance(styles, (list, tuple)) else [styles]
    if not 1 <= len(styles) <= 4:
        from .errors import ArgumentError
        raise ArgumentError(f"adain_panel takes 1 to 4 styles, got {len(styles)}")
    feats = [adain.encode_style(s, model=model) for s in styles]
    slider = lambda desc, v: W.FloatSlider(value=v, min=0.0, max=1.0, step=0.05, description=desc,
                                           continuous_update=False, readout_format=".2f")
    alpha = slider("alpha", 1.0)
    weights = [slider(f"style {i + 1}", 1.0) for i in range(len(styles))]
    color = W.Checkbox(value=False, description="preserve colour")
    kinds = ["none"] + (["left/right", "luminance"] if len(styles) >= 2 else [])
    mask_kind = W.Dropdown(options=kinds, value="none", description="mask")
    threshold = slider("threshold", 0.5)

    def compute() -> torch.Tensor:
        mask = adain_mask(mask_kind.value, content, threshold.value)
        if mask is not None:
            return adain.stylize(content, feats[:2], alpha=alpha.value, mask=mask,
                                 preserve_color=color.value, model=model)
        w = [s.value for s in weights]
        if sum(w) <= 0:
            raise ValueError("all style weights are zero")
        return adain.stylize(content, feats, alpha=alpha.value, style_weights=w,
                             preserve_color=color.value, model=model)

    controls = [alpha] + (weights if len(styles) > 1 else []) + [color]
    if len(styles) >= 2:
        controls += [mask_kind, threshold]
    panel = live_panel(controls, compute, width)
    panel.alpha, panel.weights, panel.color, panel.mask_kind, panel.threshold = alpha, weights, color, mask_kind, threshold
    return panel


# ================================================================ seeing style (notebook 00)

def seeing_style_panel(images=None, layers=None, size: int | None = None, encoder=None,
                       mosaic_channels: int = 12, display_width: int = 260):
    """Pick an image and a VGG-19 layer; see its feature maps, its Gram matrix and its channel stats.

    ``images``: bundled asset names, or ``{name: (1,3,H,W) tensor}`` (default: two photos and two
    paintings); ``layers``: layer names for the dropdown (default ``plots.SEEING_LAYERS``);
    ``size``: long side in pixels (default ``config.SIZE``).

    Widgets (attributes of the returned box): ``image_dropdown``, ``layer_dropdown``,
    ``channel_slider``; pictures: ``picture`` (the input), ``channel_view`` (the selected channel),
    ``mosaic_view`` (the strongest channels), ``gram_view`` and ``stats_view``.
    ``panel.update(image=None, layer=None, channel=None)`` sets any of the controls and re-draws,
    exactly what moving them does. Moving the channel slider re-draws only ``channel_view``
    (no matplotlib, a few milliseconds); changing image or layer re-draws everything.
    """
    from . import assets, config, plots, stats
    from .encoders import vgg19
    from .errors import ArgumentError

    layers = list(layers or plots.SEEING_LAYERS)
    size = size or config.SIZE
    if images is None:
        images = ["chelsea", "eiffel_tower", "starry_night", "great_wave"]
    if isinstance(images, dict):
        pics = {str(k): v for k, v in images.items()}
    else:
        pics = {str(n): assets.resolve(n, size) for n in images}
    if not pics:
        raise ArgumentError("seeing_style_panel() got no images; pass asset names or {name: tensor}")
    encoder = encoder or vgg19()
    cache: dict[str, dict] = {}

    def features(name):
        if name not in cache:
            with torch.no_grad():
                cache[name] = encoder.encode(pics[name], layers)
        return cache[name]

    image_dd = W.Dropdown(options=list(pics), description="image")
    layer_dd = W.Dropdown(options=layers, value=layers[min(2, len(layers) - 1)], description="layer")
    channel = W.IntSlider(min=0, max=63, value=0, description="channel", continuous_update=True)
    picture = W.Image(format="png", width=display_width)
    channel_view = W.Image(format="png", width=display_width)
    mosaic_view = W.Image(format="png", width=int(display_width * 1.6))
    gram_view = W.Image(format="png", width=display_width)
    stats_view = W.Image(format="png", width=int(display_width * 2.6))
    caption = W.HTML()
    state = {"busy": False}

    def draw_channel():
        f = features(image_dd.value)[layer_dd.value]
        c = min(channel.value, f.shape[1] - 1)
        x = pics[image_dd.value]
        big = torch.nn.functional.interpolate(plots.colorize(f[0, c]), size=tuple(x.shape[-2:]), mode="nearest")
        set_image(channel_view, big)
        _, C, H, Wd = f.shape
        caption.value = (f"<b>{image_dd.value}</b> · <code>{layer_dd.value}</code> · {C} channels of "
                         f"{H}×{Wd} · channel <b>{c}</b>: mean {f[0, c].mean():.3g}, max {f[0, c].max():.3g}")

    def draw_all():
        import matplotlib.pyplot as plt
        f = features(image_dd.value)[layer_dd.value]
        C = f.shape[1]
        state["busy"] = True
        try:
            channel.max = C - 1
            channel.value = min(channel.value, C - 1)
        finally:
            state["busy"] = False
        set_image(picture, pics[image_dd.value])
        draw_channel()
        set_image(mosaic_view, plots.channel_mosaic(f, n=mosaic_channels, ncols=mosaic_channels // 3 or 1, tile=72))
        with plt.rc_context({"figure.max_open_warning": 0}):
            set_image(gram_view, plots.gram_picture(stats.gram(f), max_channels=64))
            fig = plots.mean_std_plot({image_dd.value: stats.mean_std(f)}, layer=layer_dd.value, size=2.6,
                                      tight=False)
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=80)
            plt.close(fig)
            stats_view.value = buf.getvalue()

    def update(image=None, layer=None, channel_index=None, channel=None):
        """Set any of image / layer / channel (as the widgets would) and re-draw."""
        if channel is None:
            channel = channel_index
        state["busy"] = True
        try:
            if image is not None:
                if image not in pics:
                    raise ArgumentError(f"image {image!r} is not in this panel; choose one of {list(pics)}")
                image_dd.value = image
            if layer is not None:
                if layer not in layers:
                    raise ArgumentError(f"layer {layer!r} is not in this panel; choose one of {layers}")
                layer_dd.value = layer
        finally:
            state["busy"] = False
        if image is not None or layer is not None or channel is None:
            draw_all()
        if channel is not None:
            state["busy"] = True
            try:
                channel_slider.value = max(0, min(int(channel), channel_slider.max))
            finally:
                state["busy"] = False
            draw_channel()

    channel_slider = channel
    image_dd.observe(lambda ch: None if state["busy"] else draw_all(), names="value")
    layer_dd.observe(lambda ch: None if state["busy"] else draw_all(), names="value")
    channel_slider.observe(lambda ch: None if state["busy"] else draw_channel(), names="value")

    def titled(title, w):
        return W.VBox([W.HTML(f"<b>{title}</b>"), w])

    panel = W.VBox([
        W.HBox([image_dd, layer_dd, channel_slider]),
        caption,
        W.HBox([titled("input", picture), titled("selected channel", channel_view),
                titled("strongest channels of this layer", mosaic_view)]),
        W.HBox([titled("Gram matrix (64 most active channels, bright = often fire together)", gram_view), titled("channel mean / std", stats_view)]),
    ])
    panel.image_dropdown, panel.layer_dropdown, panel.channel_slider = image_dd, layer_dd, channel_slider
    panel.picture, panel.channel_view, panel.mosaic_view = picture, channel_view, mosaic_view
    panel.gram_view, panel.stats_view, panel.caption = gram_view, stats_view, caption
    panel.features = features
    panel.update = update
    draw_all()
    return panel


# ---------------------------------------------------------------- lesson 04: conditional IN, adjustable weights

def cin_mixing_panel(model, content, styles=(0, 1), width: int = 256) -> W.VBox:
    """A slider t in [0, 1] mixing two styles of a conditional-IN network: weights (1 - t, t).

    ``panel.update(t)`` renders and returns the image (``cin.stylize`` with those weights)."""
    import time
    from .methods import cin

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
    import time
    from .methods import adjustable

    layers = list(model.cfg.style_layers)
    sliders = [W.FloatSlider(value=1.0, min=0.0, max=1.0, step=0.05, description=f"α {l}",
                             continuous_update=False) for l in layers]
    button = W.Button(description="randomise", icon="random")
    view = image_widget(width=width)
    caption = W.Label()
    panel = W.VBox([W.HBox([W.VBox(sliders), button]), view, caption])
    panel.times_ms, panel._quiet = [], False
    gen = torch.Generator().manual_seed(seed)

    def update(alpha_s=None):
        if alpha_s is None:
            alpha_s = [s.value for s in sliders]
        alpha_s = [float(v) for v in alpha_s]
        t0 = time.perf_counter()
        out = adjustable.stylize(content, alpha_s=alpha_s, model=model)
        set_image(view, out)
        panel.times_ms.append((time.perf_counter() - t0) * 1000)
        panel._quiet = True
        try:
            for s, v in zip(sliders, alpha_s):
                s.value = v
        finally:
            panel._quiet = False
        caption.value = ", ".join(f"{l}: {v:.2f}" for l, v in zip(layers, alpha_s)) + \
            f"  (re-rendered in {panel.times_ms[-1]:.0f} ms)"
        panel.output, panel.alpha_s = out, alpha_s
        return out

    def randomize(_=None):
        return update(torch.rand(len(layers), generator=gen).tolist())

    for s in sliders:
        s.observe(lambda ch: None if panel._quiet else update(), names="value")
    button.on_click(randomize)
    panel.sliders, panel.button, panel.view, panel.caption = sliders, button, view, caption
    panel.update, panel.randomize = update, randomize
    update()
    return panel


# ---------------------------------------------------------------- 05 MetaStyle

def metastyle_panel(model, content, styles, steps=(0, 100), cfg=None, width: int = 256):
    """Style dropdown + adaptation-steps slider -> ``metastyle.stylize`` of ``content``.

    ``panel.update(style=..., steps=...)`` returns the stylised tensor (and sets the controls).
    """
    from .methods import metastyle
    style_w = W.Dropdown(options=list(styles), value=list(styles)[0], description="style")
    steps_w = W.IntSlider(value=steps[1], min=steps[0], max=steps[1], description="steps K",
                          continuous_update=False)
    out = image_widget(width=width)
    from .assets import resolve
    content = resolve(content, (cfg or metastyle.config_of(model)).size)
    quiet = [False]

    def update(style=None, steps=None):
        quiet[0] = True  # setting the controls here must not trigger a second run
        try:
            if style is not None:
                style_w.value = style
            if steps is not None:
                steps_w.value = steps
        finally:
            quiet[0] = False
        y = metastyle.stylize(content, style_w.value, model=model, steps=steps_w.value, cfg=cfg,
                              progress=False)
        set_image(out, y)
        return y

    style_w.observe(lambda _: quiet[0] or update(), names="value")
    steps_w.observe(lambda _: quiet[0] or update(), names="value")
    panel = W.VBox([W.HBox([style_w, steps_w]), out])
    panel.update = update
    update()
    return panel


# ---------------------------------------------------------------- 06 DIN

def din_panel(model, content: torch.Tensor, style, width: int = 256) -> W.VBox:
    """DIN controls over ``stylelab.methods.din.stylize``: alpha, deformable on/off with the offset
    scale, the stroke-size mask ('none', 'auto' = large strokes where the content is flat, 'left
    half') and its dilation. The style is encoded once (a cached ``StyleCode``).

    ``panel.update()`` recomputes with the current values and shows the result in ``panel.image``;
    ``panel.output`` is the last stylised tensor, ``panel.calls`` counts updates.
    """
    from .methods import din
    code = style if isinstance(style, din.StyleCode) else model.encode_style(style)
    alpha = W.FloatSlider(value=1.0, min=0.0, max=1.0, step=0.05, description="alpha", continuous_update=False)
    deformable = W.Checkbox(value=bool(model.cfg.deformable), description="deformable")
    offset_scale = W.FloatSlider(value=1.0, min=0.0, max=5.0, step=0.25, description="offset x",
                                 continuous_update=False)
    stroke = W.Dropdown(options=["none", "auto", "left half"], value="none", description="big strokes")
    dilation = W.IntSlider(value=2, min=1, max=4, description="dilation", continuous_update=False)

    def mask():
        if stroke.value == "none":
            return None
        if stroke.value == "auto":
            return "auto"
        m = torch.zeros(content.shape[-2:])
        m[:, : content.shape[-1] // 2] = 1.0
        return m

    def compute() -> torch.Tensor:
        return din.stylize(content, code, model, alpha=alpha.value, deformable=deformable.value,
                           offset_scale=offset_scale.value, stroke_mask=mask(), stroke_dilation=dilation.value)

    controls = [alpha, deformable, offset_scale, stroke, dilation]
    panel = live_panel(controls, compute, width)
    panel.alpha, panel.deformable, panel.offset_scale, panel.stroke, panel.dilation = controls
    return panel


# ---------------------------------------------------------------- 08 arena

def arena_panel(pairs, names, size: int, gatys_steps: int, width: int = 900) -> W.VBox:
    """Pick a content/style pair and the methods to compare; shows their pictures side by side.

    ``pairs``: list of (content_name, style_name) asset names. ``panel.update(pair=i, methods=[...])``
    sets the controls and redraws, exactly what the dropdown, the list and the button do.
    """
    from . import config
    from .demo import gallery
    pair_box = W.Dropdown(options=[(f"{c} + {s}", i) for i, (c, s) in enumerate(pairs)], value=0,
                          description="pair")
    method_box = W.SelectMultiple(options=list(names), value=tuple(names[:3]), description="methods",
                                  rows=min(8, len(names)))
    button = W.Button(description="Compare", button_style="primary")
    view = W.Image(format="png", width=width)
    device = config.device()

    def redraw(*_):
        fig = gallery([pairs[pair_box.value]], list(method_box.value), size, gatys_steps, device)
        view.value = figure_png(fig)

    def update(pair=None, methods=None):
        if pair is not None:
            pair_box.value = pair
        if methods is not None:
            method_box.value = tuple(methods)
        redraw()
        return view.value

    button.on_click(redraw)
    panel = W.VBox([W.HBox([pair_box, method_box, button]), view])
    panel.update, panel.view = update, view
    redraw()
    return panel
