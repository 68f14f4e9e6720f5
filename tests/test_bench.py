"""The measuring helpers: figures that are right on known cases."""
import importlib
import math
import os
import time

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


def _fills(mib):
    """A setup for ``fresh_peak_memory_mb``: the run fills a float32 tensor of ``mib`` MiB."""
    return lambda: torch.ones(mib, 256, 1024).sum()


def _fails():
    raise RuntimeError("this setup fails on purpose")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="the CPU figure needs /proc")
def test_peak_memory_in_a_fresh_process():
    mb = bench.fresh_peak_memory_mb(_fills, 50)
    assert 40 < mb < 150
    assert math.isnan(bench.fresh_peak_memory_mb(_fails))
    t0 = time.perf_counter()
    assert math.isnan(bench.fresh_peak_memory_mb(time.sleep, 60, timeout=1))  # killed, not waited for
    assert time.perf_counter() - t0 < 30


@pytest.mark.parametrize("name", ["adain", "adjustable", "cin", "din", "gatys", "johnson", "kernels"])
def test_bench_scripts_take_size_and_sizes_alike(name):
    parser = importlib.import_module(f"stylelab.bench.{name}").parser()
    assert parser.parse_args([]).sizes == [256, 512]
    assert parser.parse_args(["--size", "64"]).sizes == [64]
    assert parser.parse_args(["--sizes", "64", "96"]).sizes == [64, 96]
    if name == "kernels":
        assert parser.parse_args(["--memory-sizes", "32"]).memory_sizes == [32]


def test_parameters():
    assert bench.parameters(torch.nn.Linear(3, 4)) == 16 and bench.parameters(None) == 0


def test_validate_judges_a_single_style_network_against_its_own_painting(tmp_path, capsys):
    from stylelab import checkpoints, images
    from stylelab.bench import validate
    from stylelab.methods import johnson
    photos = tmp_path / "photos"
    for name in ("chelsea", "coffee"):
        images.save(assets.load(name, size=64), photos / f"{name}.png")
    torch.manual_seed(0)
    net = johnson.build(johnson.Config(channels=(8, 16, 32), n_residual=1))
    checkpoints.save_inference(net.state_dict(), tmp_path / "j.pth", {"method": "johnson",
                                                                   "config": vars(net.cfg)})
    grid = tmp_path / "grid.png"
    assert validate.main(["johnson", "--model", str(tmp_path / "j.pth"), "--style", "great_wave",
                          "--content-dir", str(photos), "--sizes", "64", "--grid", str(grid)]) == 0
    out = capsys.readouterr().out
    assert "2 held-out pairs" in out and "johnson (j.pth)" in out
    assert images.load(grid).shape[-1] > 3 * 64          # content, painting, output per pair
    from stylelab import ArgumentError
    with pytest.raises(ArgumentError, match="one --style NAME"):
        validate.main(["johnson", "--model", str(tmp_path / "j.pth"), "--content-dir", str(photos)])
    with pytest.raises(ArgumentError, match="--style-dir"):
        validate.main(["adain", "--content-dir", str(photos)])


def test_newstyle_race_judges_each_start_at_its_marks_and_norm_only_keeps_the_convolutions(tmp_path):
    from stylelab import checkpoints
    from stylelab.bench import newstyle
    from stylelab.methods import cin
    torch.manual_seed(0)
    multi = cin.build(cin.Config(n_styles=2))
    checkpoints.save_inference(multi.state_dict(), tmp_path / "cin.pth", {"method": "cin", "config": vars(multi.cfg)})
    start = str(tmp_path / "cin.pth") + newstyle.NORM_ONLY
    res = newstyle.race("great_wave", ["scratch", start], minutes=0.02, marks=(0.01, 0.02), size=64,
                        eval_size=64, eval_content=["chelsea"], batch_size=1, progress=False)
    for r in res.values():
        assert list(r["marks"]) == [0.01, 0.02] and r["steps"] >= 1
        assert r["marks"][0.01]["step"] <= r["marks"][0.02]["step"] <= r["steps"]
        assert r["marks"][0.02]["pictures"][0].shape[-1] == 64 and 0 <= r["marks"][0.02]["ssim"] <= 1
        seconds = [t for t, _ in r["curve"]]
        assert len(seconds) == r["steps"] and seconds == sorted(seconds)
    # only the norms trained: every convolution is still the conditional-IN network's
    net, shipped = res[start]["model"], checkpoints.load_inference(tmp_path / "cin.pth")["state"]
    assert torch.equal(net.encoder[0][1].weight, shipped["net.encoder.0.1.weight"])
    assert not torch.equal(net.encoder[0][2].weight, shipped["net.encoder.0.2.gamma.0"])
    with pytest.raises(Exception, match="scratch:norm"):
        newstyle.learn_style("great_wave", "scratch" + newstyle.NORM_ONLY, minutes=0.01)
