"""Adjustable style transfer: Lambda-conditioned IN, alpha validation, Eq. 9 normalisation, training."""
import pytest
import torch
import torch.nn.functional as F

from stylelab import images
from stylelab.errors import ArgumentError, CheckpointError
from stylelab.methods import adjustable as A
from stylelab.train import recipes


def small_cfg(**kw):
    return A.Config(channels=(8, 8, 16), n_residual=1, hidden=16, **kw)


def test_lambda_in_is_instance_norm_with_per_row_gamma_beta():
    torch.manual_seed(0)
    model = A.build(small_cfg())
    alpha = torch.rand(2, model.n_alpha)
    pairs = model.conditioning(alpha)
    assert [g.shape[1] for g, _ in pairs] == [m.channels for m in model.norms()]
    layer = model.norms()[0]
    g, b = pairs[0]
    layer.gamma, layer.beta = g, b
    x = torch.randn(2, layer.channels, 6, 5)
    out = layer(x)
    for i in range(2):  # row i normalised with its own gamma_i, beta_i (Eq. 7)
        ref = F.instance_norm(x[i:i + 1], weight=g[i], bias=b[i], eps=1e-5)
        assert torch.allclose(out[i:i + 1], ref, atol=1e-5)
    # Lambda starts close to plain IN: gamma ~ 1, beta ~ 0
    assert (g - 1).abs().mean() < 0.2 and b.abs().mean() < 0.2


@pytest.mark.parametrize("alpha_s", [[0.5, 0.5], [0.1, 0.2, 1.5], -0.1, {"relu9_9": 1.0}, float("nan")])
def test_bad_alpha_raises(alpha_s):
    model = A.build(small_cfg())
    with pytest.raises(ArgumentError):
        A.make_alpha(model, alpha_s)


def test_alpha_forms_and_that_alpha_changes_the_output():
    model = A.build(small_cfg()).eval()
    assert torch.equal(A.make_alpha(model, 0.3), torch.tensor([[1.0, 0.3, 0.3, 0.3]]))
    assert torch.equal(A.make_alpha(model, {"relu3_4": 0.0}, alpha_c=0.5), torch.tensor([[0.5, 1.0, 0.0, 1.0]]))
    with torch.no_grad():
        model.lam[2].weight.normal_()  # a Lambda that listens to alpha
    x = torch.rand(1, 3, 36, 36)
    a, b = A.stylize(x, alpha_s=[0, 0, 0], model=model), A.stylize(x, alpha_s=[1, 0, 0], model=model)
    assert a.shape == x.shape and not torch.allclose(a, b, atol=1e-3)
    outs, alphas = A.randomize(x, n=3, model=model, seed=1)
    assert alphas.shape == (3, 3) and (alphas >= 0).all() and (alphas <= 1).all()
    assert not torch.allclose(outs[0], outs[1], atol=1e-3)


def test_eq9_each_layer_divided_by_its_moving_average(content, style):
    torch.manual_seed(0)
    cfg = small_cfg(ema_decay=0.5)
    alpha = A.make_alpha(A.build(cfg), [0.2, 0.6, 1.0])
    model = A.FixedAlphaNet(cfg, alpha).train()
    c = images.center_crop(content, 32)
    s = images.center_crop(style, 32)
    batch = {"content": c, "style": s, "style_index": torch.zeros(1, dtype=torch.long)}
    terms = A.loss(model, batch)  # first step: EMA = the loss itself, so each term is its alpha
    assert torch.allclose(torch.stack(list(terms.values())), alpha[0], atol=1e-5)
    assert list(terms) == ["content_relu3_4", "style_relu2_2", "style_relu3_4", "style_relu4_4"]
    first = model.loss_ema.clone()
    with torch.no_grad():
        model.net.decoder[-1][1].bias.add_(0.3)  # change the output so the losses change
        raw = A.layer_losses(model, model(c), c, s)[0]
    terms = A.loss(model, batch)
    d = min(0.5, 2 / 11)  # the decay warms up: min(decay, (1 + n) / (10 + n))
    ema = d * first + (1 - d) * raw
    assert torch.allclose(model.loss_ema, ema, rtol=1e-4)
    assert torch.allclose(torch.stack([t.detach() for t in terms.values()]), alpha[0] * raw / ema, rtol=1e-4)
    assert "loss_ema" in model.state_dict() and int(model.ema_steps) == 2


def test_training_lowers_the_loss(content, style):
    r = recipes.fit_adjustable([content], style, steps=8, size=32, cfg=small_cfg(lr=1e-2), progress=False)
    raw = r.model.loss_ema  # the EMA started at the first loss and follows the falling losses
    assert int(r.model.ema_steps) == 8 and torch.isfinite(raw).all()
    x = images.center_crop(content, 32)
    untrained = A.build(small_cfg())
    s_new = sum(A.style_losses(r.model, A.stylize(x, alpha_s=1.0, model=r.model), style).values())
    s_old = sum(A.style_losses(r.model, A.stylize(x, alpha_s=1.0, model=untrained), style).values())
    assert s_new < s_old


def test_retrain_fixed_uses_johnsons_network_and_pretrained_names_are_checked(content, style):
    r = recipes.retrain_fixed_alpha([content], style, [0.0, 1.0, 0.0], steps=2, size=32, cfg=small_cfg(), progress=False)
    assert torch.equal(r.model.fixed_alpha, torch.tensor([[1.0, 0.0, 1.0, 0.0]]))
    assert r.history[0]["style_relu2_2"] == 0.0 and r.history[0]["style_relu3_4"] > 0
    with pytest.raises(CheckpointError, match="no pretrained adjustable/other"):
        A.pretrained("other")
    with pytest.raises(ArgumentError):
        A.stylize(torch.rand(1, 3, 32, 32), "the_scream", model=A.build(small_cfg(style_name="starry_night")))


def test_alpha_pairs_train_each_photo_at_alpha_and_one_minus_alpha(content, style):
    torch.manual_seed(0)
    model = A.build(small_cfg()).train()
    seen = {}
    forward = model.forward

    def spy(x, alpha):
        seen["x"], seen["alpha"] = x, alpha
        return forward(x, alpha)

    model.forward = spy
    c = torch.cat([images.center_crop(content, 32), images.center_crop(style, 32)])  # two different rows
    batch = {"content": c, "style": images.center_crop(style, 32).expand(2, -1, -1, -1),
             "style_index": torch.zeros(2, dtype=torch.long)}
    A.loss(model, batch)
    x, a = seen["x"], seen["alpha"]
    assert torch.equal(x[0], x[1]) and torch.equal(x[0], c[0])      # the first photo, twice
    assert torch.equal(a[:, 0], torch.ones(2))                      # alpha_c stays 1
    assert torch.allclose(a[0, 1:] + a[1, 1:], torch.ones(3))       # alpha_s and 1 - alpha_s
    unpaired = A.build(small_cfg(alpha_pairs=False)).train()
    unpaired.forward = lambda x, alpha: seen.update(x=x) or A.AdjustableNet.forward(unpaired, x, alpha)
    A.loss(unpaired, batch)
    assert torch.equal(seen["x"], c)                                # both photos, each once


def test_frozen_averages_stop_moving(content, style):
    torch.manual_seed(0)
    model = A.build(small_cfg(ema_freeze=2)).train()
    c, s = images.center_crop(content, 32), images.center_crop(style, 32)
    batch = {"content": torch.cat([c, c]), "style": torch.cat([s, s]), "style_index": torch.zeros(2, dtype=torch.long)}
    A.loss(model, batch)
    A.loss(model, batch)
    frozen = model.loss_ema.clone()
    with torch.no_grad():
        model.net.decoder[-1][1].bias.add_(0.5)  # the losses change ...
    A.loss(model, batch)
    assert torch.equal(model.loss_ema, frozen) and int(model.ema_steps) == 2   # ... the averages do not


def test_the_shipped_network_moves_from_the_photo_as_the_sliders_rise(content):
    from stylelab import checkpoints
    if "adjustable/default" not in checkpoints.registry():
        pytest.skip("no adjustable network ships")
    model = A.pretrained()
    assert model.cfg.style_name == "starry_night" and model.cfg.ema_freeze == 1
    assert torch.isfinite(model.loss_ema).all()          # the averages survived the export
    x = images.center_crop(content, 96)
    far = [float((A.stylize(x, alpha_s=a, model=model) - x).abs().mean()) for a in (0.0, 0.5, 1.0)]
    assert far[0] < far[1] < far[2], far                # alpha_s = 0 stays closest to the photo
