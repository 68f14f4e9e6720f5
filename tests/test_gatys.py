"""Gatys optimisation: the objective against a direct formula, falling losses, controls, errors."""
import pytest
import torch

from stylelab import ArgumentError, CheckpointError, stats
from stylelab.methods import gatys

S = 48  # long side of the test images: small, but 32 px on the short side reaches relu5_1


@pytest.fixture(scope="module")
def small(content, style):
    from stylelab import images
    return images.resize(content, S), images.resize(style, S)


def _direct_objective(vgg, x, c, s, a, b, t, c_layers, s_layers):
    """The Gatys loss written out with plain tensor ops."""
    fx = vgg.encode(x, c_layers + s_layers)
    fc, fs = vgg.encode(c, c_layers), vgg.encode(s, s_layers)
    total = 0.0
    for l in c_layers:
        total = total + a * ((fx[l] - fc[l]) ** 2).mean()
    for l in s_layers:
        def g(f):
            _, ch, h, w = f.shape
            F = f.reshape(ch, h * w)
            return F @ F.T / (ch * h * w)
        total = total + b * ((g(fx[l]) - g(fs[l])) ** 2).mean()
    dx = (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()
    return total + t * dx


def test_objective_matches_direct_formula(vgg, small):
    c, s = small
    x = torch.rand_like(c)
    cl, sl = ["relu4_2"], ["relu1_1", "relu3_1", "relu5_1"]
    obj = gatys.Objective(vgg, c, [s], [1.0], cl, sl, None, None, 5.0, 100.0, 0.5)
    total, terms = obj(x)
    want = _direct_objective(vgg, x, c, s, 5.0, 100.0, 0.5, cl, sl)
    assert torch.allclose(total, want, rtol=1e-4)
    assert torch.allclose(terms["style"], sum(terms[f"style/{l}"] for l in sl), rtol=1e-5)


def test_blended_targets_are_weighted_grams(vgg, small):
    c, s = small
    s2 = s.flip(-1).roll(7, -2) * 0.5
    obj = gatys.Objective(vgg, None, [s, s2], [3.0, 1.0], [], ["relu2_1"], None, None, 0, 1, 0)
    g1 = stats.gram(vgg.encode(s, ["relu2_1"])["relu2_1"])
    g2 = stats.gram(vgg.encode(s2, ["relu2_1"])["relu2_1"])
    assert torch.allclose(obj.style_targets["relu2_1"], 0.75 * g1 + 0.25 * g2, rtol=1e-5)


def test_lbfgs_style_loss_falls_and_history_is_complete(small):
    c, s = small
    seen = []
    r = gatys.run(c, s, size=S, steps=8, progress=False, callback=lambda k, x, row: seen.append(k))
    assert r.image.shape == (1, 3) + tuple(c.shape[-2:])
    assert 0 <= float(r.image.min()) and float(r.image.max()) <= 1
    assert len(r.history) == 8 and seen == list(range(1, 9))
    style = r.curve("style")
    assert r.final["style"] < 0.5 * style[0], style
    assert r.final["total"] == min(r.curve("total"))
    assert set(r.history[0]) >= {"total", "content", "style", "tv", "content/relu4_2", "style/relu1_1", "step", "scale"}
    assert not torch.allclose(r.image, c)


def test_adam_lowers_the_total_and_stylize_returns_an_image(small):
    c, s = small
    out = gatys.stylize(c, s, size=S, steps=5, optimizer="adam", lr=0.05, init="noise", progress=False)
    r = gatys.run(c, s, size=S, steps=5, optimizer="adam", lr=0.05, init="noise", progress=False)
    assert torch.equal(out, r.image)  # deterministic: seeded noise
    assert r.history[-1]["total"] < r.history[0]["total"]


def test_texture_synthesis_has_no_content_term(style):
    r = gatys.run(None, style, size=S, steps=4, progress=False)
    assert "content" not in r.history[0]
    assert max(r.image.shape[-2:]) == S
    assert r.history[-1]["style"] < r.history[0]["style"]


def test_coarse_to_fine_runs_every_scale(small):
    c, s = small
    r = gatys.run(c, s, scales=(48, 64), steps=(2, 3), progress=False)
    assert [h["scale"] for h in r.history] == [48, 48, 64, 64, 64]
    assert max(r.image.shape[-2:]) == 64


def test_luminance_preservation_keeps_content_colours(small):
    c, s = small
    r = gatys.run(c, s, size=S, steps=2, preserve_color="luminance", progress=False)
    iq_out, iq_c = stats.rgb_to_yiq(r.image)[:, 1:], stats.rgb_to_yiq(c)[:, 1:]
    assert (iq_out - iq_c).abs().mean() < 0.02
    h = gatys.run(c, s, size=S, steps=2, preserve_color="histogram", progress=False)
    assert h.image.shape == r.image.shape


@pytest.mark.parametrize("kw, match", [
    (dict(style_layers=["relu9_9"]), "unknown VGG-19 layer"),
    (dict(content_layers=["conv4_x"]), "unknown VGG-19 layer"),
    (dict(content_weight=0, style_weight=0), "total loss weight is zero"),
    (dict(layer_weights={"relu1_1": 0.0, "relu2_1": 0.0}), "all layer weights are zero"),
    (dict(init="zeros"), "init="),
    (dict(optimizer="sgd"), "optimizer="),
    (dict(style_weights=[1, 2]), "style_weights"),
    (dict(preserve_color="sepia"), "preserve_color="),
    (dict(size=16), "at least 32"),
])
def test_bad_arguments_raise_clear_errors(small, kw, match):
    c, s = small
    with pytest.raises(ArgumentError, match=match):
        gatys.run(c, s, progress=False, **{"steps": 1, "size": S, **kw})


def test_texture_synthesis_with_zero_style_weight_is_refused(style):
    with pytest.raises(ArgumentError, match="total loss weight is zero"):
        gatys.run(None, style, style_weight=0, steps=1, size=S, progress=False)


def test_nan_in_the_loss_is_reported(small):
    c, s = small
    with pytest.raises(ArgumentError, match="the loss became"):
        gatys.run(c, s, content_weight=1e38, style_weight=1e38, steps=2, size=S, progress=False)


def test_method_surface(small):
    c, s = small
    model = gatys.build(gatys.Config(size=S))
    terms = gatys.loss(model, {"content": c[..., :S, :S].expand(2, -1, -1, -1), "style": s})
    assert set(terms) == {"content", "style", "tv"}
    sum(terms.values()).backward()
    assert model.image.grad is not None and model.image.grad.abs().sum() > 0
    with pytest.raises(CheckpointError):
        gatys.pretrained()


def test_panel_update_changes_the_output(small):
    from stylelab import widgets
    c, s = small
    panel = widgets.gatys_panel(c, s, steps=2, size=S, layers=("relu1_1", "relu3_1"))
    first = panel.update()
    before = panel.image.value
    panel.sliders["relu1_1"].value = 0.0
    panel.ratio.value = 1.0
    second = panel.update()
    assert panel.image.value != before
    assert not torch.allclose(first.image, second.image)
    assert panel.result is second
