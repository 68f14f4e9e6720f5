"""The measuring helpers: figures that are right on known cases."""
import math

import pytest
import torch

from stylelab import assets, bench


def test_ssim_identity_and_noise():
    x = assets.load("coffee", size=64)
    assert bench.ssim(x, x) == pytest.approx(1.0, abs=1e-6)
    noisy = (x + 0.2 * torch.randn_like(x, generator=None)).clamp(0, 1)
    worse = (x + 0.5 * torch.randn_like(x)).clamp(0, 1)
    assert bench.ssim(worse, x) < bench.ssim(noisy, x) < 0.95


def test_quality_figures_zero_for_the_inputs_themselves():
    c, s = assets.load("chelsea", size=64), assets.load("great_wave", size=64)
    q = bench.quality(c, c, s)
    assert q["content_loss"] == pytest.approx(0.0, abs=1e-9) and q["ssim"] == pytest.approx(1.0, abs=1e-6)
    q2 = bench.quality(s, c, s)
    assert q2["style_gram"] == pytest.approx(0.0, abs=1e-9) and q2["style_meanstd"] == pytest.approx(0.0, abs=1e-9)
    assert q2["content_loss"] > 0.1 and q["style_gram"] > 0.1


def test_flops_of_a_convolution():
    conv = torch.nn.Conv2d(3, 8, 3, padding=1, bias=False)
    x = torch.rand(1, 3, 16, 16)
    assert bench.flops(lambda: conv(x)) == 2 * 8 * 3 * 9 * 16 * 16


def test_time_and_memory_are_measured():
    t = bench.time_ms(lambda: torch.rand(200, 200) @ torch.rand(200, 200), runs=3)
    assert t["runs"] == 3 and 0 < t["min_ms"] <= t["median_ms"] <= t["max_ms"]
    mb = bench.peak_memory_mb(lambda: torch.ones(64, 1024, 1024).sum())  # 256 MiB
    assert math.isnan(mb) or mb > 100


def test_parameters():
    assert bench.parameters(torch.nn.Linear(3, 4)) == 16 and bench.parameters(None) == 0
