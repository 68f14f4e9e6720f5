"""The arena and the demo: honest rows, a table, a gallery PNG."""
import json
import math

import pytest
import torch

from stylelab import assets, checkpoints
from stylelab.bench import arena


@pytest.fixture(scope="module")
def tiny_pairs():
    return [(assets.load("chelsea", 64), assets.load("great_wave", 64))]


def test_methods_without_checkpoint_are_measured_but_not_judged(tiny_pairs, tmp_path, monkeypatch):
    unshipped = ["din", "adain"]      # hidden from a copy of the registry: the honest 'no checkpoint' row
    reg = {k: v for k, v in checkpoints.registry().items() if k.split("/")[0] not in unshipped}
    (tmp_path / "registry.json").write_text(json.dumps(reg))
    monkeypatch.setattr(checkpoints, "REGISTRY", tmp_path / "registry.json")
    rows = arena.run(["gatys", *unshipped], tiny_pairs, sizes=(48,), runs=1, controls={"gatys": {"steps": 2}},
                     flop_sizes=(48, 96), memory=False)
    by = {r["method"]: r for r in rows}
    assert by["gatys"]["status"] == "optimisation" and "style_gram" in by["gatys"]
    for name in unshipped:
        r = by[name]
        assert r["status"] == "no checkpoint" and "style_gram" not in r and "ssim" not in r
        assert r["params"] > 0 and r["ms_48"] > 0
        # FLOPs of a convolutional network grow with the pixels: 4x from 48 to 96 px
        assert 3.0 < r["gflops_96"] / r["gflops_48"] < 5.0
    table = arena.markdown(rows)
    assert table.count("\n") == len(rows) + 1 and "no checkpoint" in table


def test_a_shipped_arbitrary_method_gets_quality_figures_and_a_cached_time(tiny_pairs):
    shipped = [n for n in ("adain", "din", "kernels") if f"{n}/default" in checkpoints.registry()]
    if not shipped:
        pytest.skip("no arbitrary-style checkpoint ships")
    rows = arena.run(shipped[:1], tiny_pairs, sizes=(48,), runs=1, flop_sizes=(48,), memory=False)
    r = rows[0]
    assert r["status"] == "checkpoint"
    assert 0 < r["content_loss"] < 1 and 0 < r["ssim"] < 1 and r["style_meanstd"] > 0
    assert r["ms_48_cached"] > 0   # every arbitrary-style network here can cache its style


def test_a_shipped_single_style_network_is_judged_only_on_its_own_style():
    if "johnson/starry_night" not in checkpoints.registry():
        pytest.skip("no Johnson network ships")
    pairs = [(assets.load("chelsea", 64), assets.load("starry_night", 64)),
             (assets.load("coffee", 64), assets.load("the_scream", 64))]
    kw = dict(sizes=(48,), runs=1, flop_sizes=(48,), memory=False)
    r = arena.run(["johnson"], pairs, style_names=["starry_night", "the_scream"], **kw)[0]
    assert r["status"] == "checkpoint" and r["quality_pairs"] == 1
    assert 0 < r["content_loss"] < 1 and 0 < r["ssim"] < 1
    mine = arena.quality(arena.entries(["johnson"], torch.device("cpu"))[0].run_named(*[
        arena._size_pair(*pairs[0], 48)[0], "starry_night"]), *arena._size_pair(*pairs[0], 48))
    assert r["style_gram"] == pytest.approx(mine["style_gram"], rel=1e-4)   # the starry pair alone
    unnamed = arena.run(["johnson"], pairs, **kw)[0]
    assert "style_gram" not in unnamed   # without the styles' names it cannot know its pairs


def test_unknown_method_is_reported_not_crashed(tiny_pairs):
    rows = arena.run(["gatys", "nope"], tiny_pairs, sizes=(48,), runs=1, controls={"gatys": {"steps": 1}},
                     flop_sizes=(48,), memory=False)
    assert rows[1]["status"] == "missing" and "unknown method" in rows[1]["note"]


def test_demo_writes_gallery(tmp_path):
    from stylelab.cli import demo
    assert demo.main(["--out", str(tmp_path), "--size", "64", "--gatys-steps", "2", "--methods", "gatys",
                      "johnson", "--no-table"]) == 0
    from PIL import Image
    im = Image.open(tmp_path / "gallery.png")
    assert im.size[0] > 300 and im.size[1] > 300


def test_fresh_process_memory():
    mb = arena.peak_memory_of("johnson", 64, device=torch.device("cpu"))
    assert not math.isnan(mb) and mb > 0


def test_the_arena_reads_the_method_surface_not_names(monkeypatch):
    """A method is run by what its module declares: TRAINED, STYLE_INPUT, encode_style and
    ARENA_CONTROLS, which the caller's controls override."""
    e = {x.name: x for x in arena.entries(["gatys", "metastyle", "cin"], torch.device("cpu"),
                                          {"gatys": {"steps": 3}})}
    assert e["gatys"].status == "optimisation" and e["gatys"].controls["steps"] == 3
    assert e["metastyle"].controls["steps"] == 20 and e["metastyle"].encode_style is not None
    assert e["cin"].trained_styles and e["cin"].encode_style is None
    assert arena.parse_controls(["gatys.steps=20", "metastyle.adapt_size=128", "x.mode=fast"]) == {
        "gatys": {"steps": 20}, "metastyle": {"adapt_size": 128}, "x": {"mode": "fast"}}
    with pytest.raises(Exception, match="METHOD.CONTROL=VALUE"):
        arena.parse_controls(["steps=20"])


def test_an_unknown_method_on_the_command_line_is_an_error(capsys):
    with pytest.raises(SystemExit):
        arena.main(["din", "nope", "--no-memory"])
    assert "unknown method" in capsys.readouterr().err
