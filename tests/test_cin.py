"""Conditional instance normalisation: parity with IN, style mixing, adding a style, errors."""
import pytest
import torch
import torch.nn.functional as F

from stylelab import checkpoints, images
from stylelab.errors import ArgumentError, CheckpointError
from stylelab.methods import cin
from stylelab.train import recipes


def small_cfg(n=2, **kw):
    return cin.Config(n_styles=n, style_names=tuple(f"s{i}" for i in range(n)), channels=(8, 16, 16),
                      n_residual=1, **kw)


def randomize_styles(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.norms():
            for p in m.gamma:
                p.copy_(torch.randn(p.shape, generator=g) * 0.5 + 1.0)
            for p in m.beta:
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)


def test_cin_layer_matches_instance_norm_for_one_style_and_for_a_mix():
    torch.manual_seed(0)
    layer = cin.ConditionalInstanceNorm(5, 3)
    with torch.no_grad():
        for p in list(layer.gamma) + list(layer.beta):
            p.normal_()
    x = torch.randn(2, 5, 7, 9)
    G, B = layer.tables()
    layer.weights = F.one_hot(torch.tensor([1, 1]), 3).float()
    ref = F.instance_norm(x, weight=G[1], bias=B[1], eps=1e-5)
    assert torch.allclose(layer(x), ref, atol=1e-5)
    w = torch.tensor([0.2, 0.0, 0.8])
    layer.weights = w.expand(2, -1)
    ref = F.instance_norm(x, weight=0.2 * G[0] + 0.8 * G[2], bias=0.2 * B[0] + 0.8 * B[2], eps=1e-5)
    assert torch.allclose(layer(x), ref, atol=1e-5)


def test_each_style_costs_only_its_gammas_and_betas():
    model = cin.build(cin.Config(n_styles=3))
    norm_channels = sum(m.channels for m in model.norms())
    assert cin.parameters_per_style(model) == 2 * norm_channels == 3200  # 32+64+128+10*128+64+32 = 1600
    total = sum(p.numel() for p in model.parameters())
    model.add_style("extra")
    assert sum(p.numel() for p in model.parameters()) - total == 3200
    assert model.n_styles == 4 and model.cfg.n_styles == 4 and model.style_names[-1] == "extra"


def test_mixing_weights_one_zero_reproduce_single_styles(content):
    model = cin.build(small_cfg()).eval()
    randomize_styles(model)
    x = images.center_crop(content, 40)
    s0, s1 = cin.stylize(x, 0, model=model), cin.stylize(x, "s1", model=model)
    assert not torch.allclose(s0, s1, atol=1e-3)
    assert torch.allclose(cin.stylize(x, [1, 0], model=model), s0, atol=1e-6)
    assert torch.allclose(cin.stylize(x, {"s1": 2.0}, model=model), s1, atol=1e-6)
    mid = cin.stylize(x, [0.5, 0.5], model=model)
    assert not torch.allclose(mid, s0, atol=1e-3) and not torch.allclose(mid, s1, atol=1e-3)
    assert cin.stylize(content, 0, model=model).shape == content.shape  # odd sizes padded and cropped


@pytest.mark.parametrize("style", ["nope", 5, -1, [1.0], [1.0, -1.0], [0.0, 0.0], True])
def test_bad_style_choices_raise(style):
    model = cin.build(small_cfg())
    with pytest.raises(ArgumentError):
        cin.style_weights(model, style)


def test_training_lowers_the_loss_and_adding_a_style_leaves_the_others_untouched(content, style):
    r = recipes.fit_cin([content], [style, content.flip(-1)], steps=6, size=32, cfg=small_cfg(), lr=1e-2,
                progress=False, names=["a", "b"])
    hist = r.curve("style")
    assert min(hist[-3:]) < hist[0]
    model = r.model
    x = images.center_crop(content, 40)
    before = [cin.stylize(x, i, model=model) for i in range(2)]
    shared = {k: v.clone() for k, v in model.state_dict().items()}
    add = recipes.add_cin_style(model, images.center_crop(style, 48).flip(-2), steps=6, content=[content], size=32,
                        name="new", progress=False)
    assert model.n_styles == 3 and model.style_names == ["a", "b", "new"]
    assert add.curve("style")[-1] < add.curve("style")[0]
    for k, v in shared.items():  # every old parameter (convolutions, styles 0 and 1) unchanged
        assert torch.equal(model.state_dict()[k], v), k
    for i in range(2):
        assert torch.equal(cin.stylize(x, i, model=model), before[i])
    assert all(p.requires_grad for p in model.parameters())


def test_export_round_trip_and_the_shipped_network(tmp_path):
    model = cin.build(small_cfg()).eval()
    randomize_styles(model)
    checkpoints.export(cin, model, tmp_path / "c.pt")
    back = checkpoints.load_model(cin, tmp_path / "c.pt")
    assert back.style_names == ["s0", "s1"]
    x = torch.rand(1, 3, 32, 32)
    assert torch.allclose(cin.stylize(x, 1, model=back), cin.stylize(x, 1, model=model), atol=2e-2)
    with pytest.raises(CheckpointError, match="no pretrained cin/nope checkpoint"):
        cin.pretrained("nope")            # a name that does not ship says what does and how to train one
    from stylelab import assets
    shipped = cin.pretrained()            # the ten bundled styles, by name
    assert shipped.style_names == assets.names("style")
