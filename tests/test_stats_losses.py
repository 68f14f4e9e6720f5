"""Parity of every statistic and loss with its direct formula."""
import pytest
import torch

from stylelab import losses, stats
from stylelab.errors import ArgumentError


@pytest.fixture
def f(rng):
    return torch.randn(2, 5, 7, 9, generator=rng) * 3 + 1


def test_gram_matches_loop_formula(f):
    b, c, h, w = f.shape
    G = torch.zeros(b, c, c)
    for n in range(b):
        for i in range(c):
            for j in range(c):
                G[n, i, j] = (f[n, i] * f[n, j]).sum() / (c * h * w)
    assert torch.allclose(stats.gram(f), G, atol=1e-5)
    assert torch.allclose(stats.gram(f), stats.gram(f).transpose(1, 2))


def test_mean_std_and_normalize(f):
    mu, sigma = stats.mean_std(f)
    flat = f.reshape(2, 5, -1)
    assert torch.allclose(mu.flatten(), flat.mean(-1).flatten(), atol=1e-6)
    direct = ((flat - flat.mean(-1, keepdim=True)) ** 2).mean(-1).add(stats.EPS).sqrt()
    assert torch.allclose(sigma.flatten(), direct.flatten(), atol=1e-5)
    n = stats.normalize(f)
    assert torch.allclose(n, torch.nn.functional.instance_norm(f, eps=stats.EPS), atol=1e-5)


def test_adain_formula_and_statistics(f, rng):
    y = torch.randn(2, 5, 4, 6, generator=rng) * 0.5 - 2
    out = stats.adain(f, y)
    mu_x, sd_x = stats.mean_std(f)
    mu_y, sd_y = stats.mean_std(y)
    assert torch.allclose(out, sd_y * (f - mu_x) / sd_x + mu_y, atol=1e-5)
    mu_o, sd_o = stats.mean_std(out)
    assert torch.allclose(mu_o, mu_y, atol=1e-4) and torch.allclose(sd_o, sd_y, atol=1e-3)


def test_match_color_moments(rng):
    src = torch.rand(1, 3, 32, 32, generator=rng) * 0.5
    tgt = torch.rand(1, 3, 32, 32, generator=rng) * 0.3 + torch.tensor([0.6, 0.2, 0.1]).view(1, 3, 1, 1)
    out = stats.match_color(src, tgt)
    assert torch.allclose(out.mean((2, 3)), tgt.mean((2, 3)), atol=2e-3)
    cov = lambda x: torch.cov(x[0].reshape(3, -1))
    assert torch.allclose(cov(out), cov(tgt), atol=2e-3)


def test_luminance_transfer_keeps_content_colour_and_output_luma(rng):
    stylised, content = torch.rand(1, 3, 32, 32, generator=rng), torch.rand(1, 3, 32, 32, generator=rng)
    out = stats.luminance_transfer(stylised, content)
    yiq_o, yiq_s, yiq_c = (stats.rgb_to_yiq(t) for t in (out, stylised, content))
    inside = (out > 0.001).all(1) & (out < 0.999).all(1)  # away from clamping
    assert torch.allclose(yiq_o[:, 0][inside], yiq_s[:, 0][inside], atol=1e-4)
    assert torch.allclose(yiq_o[:, 1:].permute(0, 2, 3, 1)[inside], yiq_c[:, 1:].permute(0, 2, 3, 1)[inside], atol=1e-4)


def test_content_loss_direct(rng):
    a = {"relu4_1": torch.randn(1, 8, 5, 5, generator=rng), "relu3_1": torch.randn(1, 4, 6, 6, generator=rng)}
    b = {k: torch.randn_like(v) for k, v in a.items()}
    total, per = losses.content_loss(a, b, {"relu4_1": 2.0, "relu3_1": 0.5})
    direct = {k: ((a[k] - b[k]) ** 2).sum() / a[k].numel() for k in a}
    assert torch.allclose(per["relu4_1"], direct["relu4_1"])
    assert torch.allclose(total, 2.0 * direct["relu4_1"] + 0.5 * direct["relu3_1"])


def test_gram_style_loss_direct(f, rng):
    target = torch.randn(1, 5, 6, 6, generator=rng)
    total, per = losses.gram_style_loss({"l": f}, {"l": stats.gram(target)})
    G, Gt = stats.gram(f), stats.gram(target)
    direct = ((G - Gt) ** 2).sum() / (2 * 5 * 5)
    assert torch.allclose(total, direct) and torch.allclose(per["l"], direct)


def test_mean_std_style_loss_direct(f, rng):
    target = torch.randn(1, 5, 6, 6, generator=rng)
    total, _ = losses.mean_std_style_loss({"l": f}, {"l": target})
    (mo, so), (mt, st) = stats.mean_std(f), stats.mean_std(target)
    direct = ((mo - mt) ** 2).sum() / 10 + ((so - st) ** 2).sum() / 10
    assert torch.allclose(total, direct)
    total2, _ = losses.mean_std_style_loss({"l": f}, {"l": stats.mean_std(target)})
    assert torch.allclose(total, total2)


def test_tv_loss_direct():
    x = torch.tensor([[[[0.0, 1.0], [3.0, 3.0]]]])
    # vertical diffs |3-0|,|3-1| mean 2.5; horizontal |1-0|,|3-3| mean 0.5
    assert float(losses.tv_loss(x)) == pytest.approx(3.0)
    assert float(losses.tv_loss(torch.ones(1, 3, 8, 8))) == 0.0


def test_layer_weights_validation():
    assert losses.layer_weights(["a", "b"]) == {"a": 1.0, "b": 1.0}
    assert losses.layer_weights(["a", "b"], {"a": 2}) == {"a": 2.0, "b": 0.0}
    with pytest.raises(ArgumentError, match="all layer weights are zero"):
        losses.layer_weights(["a"], {"a": 0})
    with pytest.raises(ArgumentError, match="not among the layers"):
        losses.layer_weights(["a"], {"zz": 1})
    with pytest.raises(ArgumentError, match=">= 0"):
        losses.layer_weights(["a", "b"], {"a": -1, "b": 2})


class CountingEncoder:
    """A small stand-in for VGG: two fixed random convolutions, counting its passes."""

    def __init__(self):
        g = torch.Generator().manual_seed(0)
        self.w = {"a": torch.randn(4, 3, 3, 3, generator=g), "b": torch.randn(6, 4, 3, 3, generator=g)}
        self.calls = 0

    def encode(self, x, layers):
        self.calls += 1
        fa = torch.relu(torch.nn.functional.conv2d(x, self.w["a"], padding=1))
        fb = torch.relu(torch.nn.functional.conv2d(fa, self.w["b"], stride=2, padding=1))
        return {l: {"a": fa, "b": fb}[l] for l in layers}


def test_perceptual_loss_is_the_formula_and_encodes_targets_once(rng):
    enc = CountingEncoder()
    c, s, x = (torch.rand(2, 3, 16, 16, generator=rng) for _ in range(3))
    loss = losses.PerceptualLoss(enc, ["b"], ["a", "b"], content_weight=2.0, style_weight=3.0, tv_weight=0.5)
    loss.set_content_image(c).set_style_image(s[:1])
    assert enc.calls == 2
    total, terms = loss(x)
    loss(x.flip(-1))
    assert enc.calls == 4, "scoring an output must cost one encoder pass: the targets are kept"
    fx, fc, fs = enc.encode(x, ["a", "b"]), enc.encode(c, ["b"]), enc.encode(s[:1], ["a", "b"])
    lc = ((fx["b"] - fc["b"]) ** 2).mean()
    ls = sum(((stats.gram(fx[l]) - stats.gram(fs[l])) ** 2).mean() for l in ("a", "b"))
    assert torch.allclose(terms["content"], lc) and torch.allclose(terms["style"], ls)
    assert torch.allclose(total, 2.0 * lc + 3.0 * ls + 0.5 * losses.tv_loss(x))
    w = loss.weighted(x)
    assert set(w) == {"content", "style", "tv"} and torch.allclose(w["style"], 3.0 * ls)
    assert "tv" not in losses.PerceptualLoss(enc, ["b"], []).set_content_image(c).weighted(x)


def test_perceptual_loss_per_row_blends_and_relative_weights(rng):
    enc = CountingEncoder()
    c, s, x = (torch.rand(3, 3, 16, 16, generator=rng) for _ in range(3))
    loss = losses.PerceptualLoss(enc, ["a"], ["b"]).set_content_image(c)
    loss.set_style_image(s, weights=[1.0, 1.0, 1.0])          # a batch with weights: the mean Gram
    mean_gram = stats.gram(enc.encode(s, ["b"])["b"]).mean(0, keepdim=True)
    assert torch.allclose(loss.style_targets["b"], mean_gram, atol=1e-6)
    rows = loss.layer_losses(x, per_row=True)
    assert rows["content/a"].shape == (3,) and rows["style/b"].shape == (3,)
    for k in range(3):   # row k's figure is that row's loss alone
        one = losses.PerceptualLoss(enc, ["a"], ["b"]).set_content_image(c[k:k + 1]).set_style_grams(
            loss.style_targets).layer_losses(x[k:k + 1])
        assert torch.allclose(rows["content/a"][k], one["content/a"]) and torch.allclose(rows["style/b"][k], one["style/b"])
    blend = losses.PerceptualLoss(enc, [], ["a"]).set_style_image([s[:1], s[1:2, :, :8]], weights=[3.0, 1.0])
    g1, g2 = (stats.gram(enc.encode(t, ["a"])["a"]) for t in (s[:1], s[1:2, :, :8]))
    assert torch.allclose(blend.style_targets["a"], 0.75 * g1 + 0.25 * g2)
    rel = losses.PerceptualLoss(enc, ["a"], ["b"], relative=True).set_content_image(c).set_style_image(s)
    assert rel.cw["a"] == pytest.approx(1 / float(enc.encode(c, ["a"])["a"].pow(2).mean()))
    assert rel.sw["b"] == pytest.approx(1 / float(stats.gram(enc.encode(s, ["b"])["b"]).pow(2).mean()))


def test_perceptual_loss_refuses_to_score_without_targets(rng):
    loss = losses.PerceptualLoss(CountingEncoder(), ["a"], ["b"])
    with pytest.raises(ArgumentError, match="set_content_image"):
        loss(torch.rand(1, 3, 8, 8))
    with pytest.raises(ArgumentError, match="lack the layers"):
        loss.set_style_grams({"a": torch.eye(4)[None]})
    with pytest.raises(ArgumentError, match="one per style image"):
        loss.set_style_image([torch.rand(1, 3, 8, 8)], weights=[1.0, 2.0])
