"""Figures and the panel of lesson 00 (seeing style): what they draw is what the maths says."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from stylelab import ArgumentError, plots, stats, widgets  # noqa: E402


@pytest.fixture(scope="module")
def feats(vgg, content, style):
    with torch.no_grad():
        return vgg.encode(content, plots.SEEING_LAYERS), vgg.encode(style, plots.SEEING_LAYERS)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_colorize_maps_values_through_the_colormap():
    m = torch.linspace(0, 1, 11).view(1, 11).repeat(3, 1)  # a ramp 0 .. 1
    rgb = plots.colorize(m, "magma", vmax=1.0)
    assert rgb.shape == (1, 3, 3, 11) and rgb.min() >= 0 and rgb.max() <= 1
    lut = matplotlib.colormaps["magma"]
    assert torch.allclose(rgb[0, :, 0, 0], torch.tensor(lut(0.0)[:3]).float(), atol=1e-6)
    assert torch.allclose(rgb[0, :, 0, -1], torch.tensor(lut(1.0)[:3]).float(), atol=1e-6)
    assert torch.allclose(rgb[0, :, 0, 5], torch.tensor(lut(0.5)[:3]).float(), atol=1e-6)


def test_strongest_channels_and_mosaic():
    f = torch.zeros(1, 5, 4, 6)
    for c, v in enumerate([0.1, 3.0, 0.5, 2.0, 0.0]):
        f[0, c] = v
    f[0, :, 0, 0] += 1.0  # not flat, so each tile has something to show
    assert plots.strongest_channels(f, 3) == [1, 3, 2]
    mos = plots.channel_mosaic(f, n=4, ncols=2, tile=8)
    # 2 x 2 tiles of 8 x 12 (aspect kept) with 2 px padding
    assert mos.shape == (1, 3, 2 * 8 + 3 * 2, 2 * 12 + 3 * 2)


def test_feature_maps_grid_shows_the_strongest_channels(feats, content):
    fc, _ = feats
    fig = plots.feature_maps(fc, n=4, image=content)
    axes = np.array(fig.axes).reshape(len(plots.SEEING_LAYERS), 5)
    for r, layer in enumerate(plots.SEEING_LAYERS):
        want = plots.strongest_channels(fc[layer], 4)
        assert [ax.get_title() for ax in axes[r, 1:]] == [f"ch {c}" for c in want]
        shown = axes[r, 1].get_images()[0].get_array()
        assert np.allclose(np.asarray(shown), fc[layer][0, want[0]].numpy())
        assert layer in axes[r, 0].get_ylabel()


def test_gram_heatmaps_share_order_and_colour_scale(feats, content, style):
    fc, fs = feats
    gc, gs = stats.gram(fc["relu2_1"]), stats.gram(fs["relu2_1"])
    fig = plots.gram_heatmaps({"content": gc, "style": gs}, images={"content": content, "style": style},
                              layer="relu2_1", max_channels=16)
    heat = [ax.get_images()[0] for ax in fig.axes if ax.get_images() and ax.get_images()[0].get_array().shape == (16, 16)]
    assert len(heat) == 2
    order = gc[0].diagonal().argsort(descending=True)[:16]
    assert np.allclose(np.asarray(heat[0].get_array()), gc[0][order][:, order].numpy())
    assert np.allclose(np.asarray(heat[1].get_array()), gs[0][order][:, order].numpy())
    assert heat[0].norm.vmax == heat[1].norm.vmax  # one colour scale for both


def test_mean_std_plot_draws_the_statistics(feats):
    fc, fs = feats
    mu, sigma = stats.mean_std(fc["relu1_1"])
    fig = plots.mean_std_plot({"content": (mu, sigma), "style": stats.mean_std(fs["relu1_1"])},
                              layer="relu1_1", highlight=3)
    order = mu.flatten().argsort(descending=True)
    mean_line = fig.axes[0].get_lines()[0]
    std_line = fig.axes[1].get_lines()[0]
    assert np.allclose(mean_line.get_ydata(), mu.flatten()[order].numpy())
    assert np.allclose(std_line.get_ydata(), sigma.flatten()[order].numpy())
    assert "relu1_1" in fig.axes[0].get_title()


def test_gram_picture_puts_the_most_active_channel_top_left(feats):
    g = stats.gram(feats[1]["relu3_1"])
    pic = plots.gram_picture(g, max_channels=32, pixels=64)
    assert pic.shape == (1, 3, 64, 64)
    top = matplotlib.colormaps["viridis"](1.0)[:3]
    assert torch.allclose(pic[0, :, 0, 0], torch.tensor(top).float(), atol=1e-6)


def test_distance_matrix_boxes_each_row_minimum():
    d = torch.tensor([[0.3, 0.1, 0.5], [0.2, 0.4, 0.6], [0.9, 0.8, 0.7]])
    fig = plots.distance_matrix(d, ["a", "b", "c"])
    boxes = sorted((round(p.get_y() + 0.5), round(p.get_x() + 0.5)) for p in fig.axes[0].patches)
    assert boxes == [(0, 1), (1, 0), (2, 2)]


@pytest.fixture(scope="module")
def panel(vgg, content, style):
    return widgets.seeing_style_panel({"photo": content, "painting": style}, size=64, encoder=vgg)


def test_panel_starts_drawn(panel):
    for w in (panel.picture, panel.channel_view, panel.mosaic_view, panel.gram_view, panel.stats_view):
        assert bytes(w.value)[:4] == b"\x89PNG"
    assert panel.layer_dropdown.value == "relu3_1" and panel.channel_slider.max == 255


def test_panel_slider_redraws_only_the_channel(panel):
    before = (panel.channel_view.value, panel.mosaic_view.value, panel.gram_view.value)
    panel.channel_slider.value = (panel.channel_slider.value + 5) % 64
    assert panel.channel_view.value != before[0]
    assert panel.mosaic_view.value == before[1] and panel.gram_view.value == before[2]
    assert f"channel <b>{panel.channel_slider.value}</b>" in panel.caption.value


def test_panel_dropdowns_redraw_everything(panel):
    before = (panel.picture.value, panel.mosaic_view.value, panel.gram_view.value, panel.stats_view.value)
    panel.image_dropdown.value = "painting" if panel.image_dropdown.value == "photo" else "photo"
    after = (panel.picture.value, panel.mosaic_view.value, panel.gram_view.value, panel.stats_view.value)
    assert all(a != b for a, b in zip(before, after))
    panel.layer_dropdown.value = "relu1_1"
    assert panel.channel_slider.max == 63 and panel.mosaic_view.value != after[1]


def test_panel_update_sets_controls_and_clamps_channel(panel):
    panel.update(image="photo", layer="relu5_1", channel=9999)
    assert panel.image_dropdown.value == "photo" and panel.layer_dropdown.value == "relu5_1"
    assert panel.channel_slider.max == 511 and panel.channel_slider.value == 511
    before = panel.gram_view.value
    panel.update(layer="relu2_1")
    assert panel.channel_slider.max == 127 and panel.channel_slider.value == 127
    assert panel.gram_view.value != before
    with pytest.raises(ArgumentError):
        panel.update(image="no_such_picture")
    with pytest.raises(ArgumentError):
        panel.update(layer="relu9_9")


def test_live_panel_shows_an_error_in_one_line_and_keeps_the_last_picture():
    import ipywidgets as W
    level = W.FloatSlider(value=0.5, min=0, max=1)

    def compute():
        if level.value == 0:
            raise ArgumentError("level must be positive")
        return torch.full((1, 3, 8, 8), level.value)

    panel = widgets.live_panel([level], compute)
    assert panel.calls == 1 and panel.status.value == ""
    first = panel.image.value
    level.value = 0.0
    assert panel.status.value == "ArgumentError: level must be positive"
    assert panel.image.value == first and float(panel.output.mean()) == 0.5
    level.value = 1.0
    assert panel.status.value == "" and panel.calls == 2 and panel.image.value != first
