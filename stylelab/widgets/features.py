"""Seeing style: a VGG layer's feature maps, Gram matrix and channel statistics for a chosen image."""
from __future__ import annotations

import io

import ipywidgets as W
import matplotlib.pyplot as plt
import torch

from .. import assets, config, plots, stats
from ..encoders import vgg19
from ..errors import ArgumentError
from .base import Quiet, set_image


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
    quiet = Quiet()

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
        f = features(image_dd.value)[layer_dd.value]
        C = f.shape[1]
        with quiet:
            channel.max = C - 1
            channel.value = min(channel.value, C - 1)
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
        with quiet:
            if image is not None:
                if image not in pics:
                    raise ArgumentError(f"image {image!r} is not in this panel; choose one of {list(pics)}")
                image_dd.value = image
            if layer is not None:
                if layer not in layers:
                    raise ArgumentError(f"layer {layer!r} is not in this panel; choose one of {layers}")
                layer_dd.value = layer
        if image is not None or layer is not None or channel is None:
            draw_all()
        if channel is not None:
            with quiet:
                channel_slider.value = max(0, min(int(channel), channel_slider.max))
            draw_channel()

    channel_slider = channel
    quiet.observe(image_dd, draw_all)
    quiet.observe(layer_dd, draw_all)
    quiet.observe(channel_slider, draw_channel)

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
