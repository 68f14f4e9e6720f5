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
