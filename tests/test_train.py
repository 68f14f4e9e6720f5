"""The trainer: resume equals an uninterrupted run, atomic checkpoints, export/load, bad input, DDP.

Most tests use a toy method (a 2-layer conv net pulled towards the style's mean colour) so they
test the loop, not VGG; one test runs the real CLI on johnson.
"""
import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn

from stylelab import ArgumentError, CheckpointError, ImageError, checkpoints, images, methods, train, weights
from stylelab.cli import train as train_cli


# ---------------------------------------------------------------- a toy method of the same shape

@dataclass
class ToyConfig:
    width: int = 4
    lr: float = 1e-2
    batch_size: int = 2


def toy_build(cfg=None):
    cfg = cfg or ToyConfig()
    net = nn.Sequential(nn.Conv2d(3, cfg.width, 3, padding=1), nn.BatchNorm2d(cfg.width), nn.ReLU(),
                        nn.Conv2d(cfg.width, 3, 3, padding=1))
    return net


def toy_loss(model, batch):
    out = model(batch["content"])
    noise = torch.rand(()) * 1e-3  # uses torch's global RNG: resume must restore it
    return {"colour": ((out.mean((2, 3)) - batch["style"].mean((2, 3))) ** 2).mean() + noise,
            "content": 0.1 * ((out - batch["content"]) ** 2).mean()}


TOY = SimpleNamespace(__name__="toy", Config=ToyConfig, build=toy_build, loss=toy_loss)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("content")
    g = torch.Generator().manual_seed(1)
    for i in range(3):
        images.save(torch.rand(1, 3, 40, 48, generator=g), d / f"im{i}.png")
    return d


STYLE = torch.full((1, 3, 40, 40), 0.8)


def run(folder, out=None, steps=6, **kw):
    return train.train(TOY, folder, STYLE, size=32, steps=steps, progress=False, out=out, **kw)


def params(model):
    return torch.cat([p.detach().flatten() for p in model.state_dict().values() if p.is_floating_point()])


# ---------------------------------------------------------------- tests

def test_loss_falls_and_history_files(folder, tmp_path):
    res = run(folder, tmp_path, steps=15, ckpt_every=5)
    assert res.curve()[-1] < 0.5 * res.curve()[0]
    rows = json.loads((tmp_path / "history.json").read_text())
    assert len(rows) == 15 and rows[-1]["step"] == 15 and rows[-1]["total"] == pytest.approx(res.curve()[-1])
    assert (tmp_path / "history.csv").read_text().splitlines()[0].split(",") == ["step", "colour", "content", "total"]


def test_seed_reproducible(folder):
    a, b, c = run(folder, seed=3), run(folder, seed=3), run(folder, seed=4)
    assert a.history == b.history
    assert a.history != c.history


def test_resume_equals_uninterrupted(folder, tmp_path):
    straight = run(folder, tmp_path / "a", steps=6, ckpt_every=2)
    run(folder, tmp_path / "b", steps=3, ckpt_every=2)          # stops after 3 of 6
    resumed = run(folder, tmp_path / "b", steps=6, ckpt_every=2, resume=True)
    assert resumed.history == straight.history
    assert torch.equal(params(resumed.model), params(straight.model))


def test_interrupt_saves_last_step_and_resumes(folder, tmp_path):
    straight = run(folder, tmp_path / "a", steps=6, ckpt_every=100)
    calls = {"n": 0}

    def flaky_loss(model, batch):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return toy_loss(model, batch)

    flaky = SimpleNamespace(__name__="toy", Config=ToyConfig, build=toy_build, loss=flaky_loss)
    with pytest.raises(KeyboardInterrupt):
        train.train(flaky, folder, STYLE, size=32, steps=6, progress=False, out=tmp_path / "b", ckpt_every=100)
    ck = train.load_checkpoint(tmp_path / "b")
    assert ck["step"] == 4  # the four finished steps survive although no interval was reached
    resumed = run(folder, tmp_path / "b", steps=6, resume=True)
    assert resumed.history == straight.history


def test_checkpoint_write_is_atomic(folder, tmp_path, monkeypatch):
    run(folder, tmp_path, steps=2, ckpt_every=1)
    before = (tmp_path / "checkpoint.pt").read_bytes()
    real_save = torch.save

    def dying_save(obj, f, *a, **k):  # writes half a file, then the process "dies"
        real_save(obj, f, *a, **k)
        with open(f, "r+b") as fh:
            fh.truncate(100)
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        run(folder, tmp_path, steps=4, ckpt_every=1, resume=True)
    monkeypatch.undo()
    assert (tmp_path / "checkpoint.pt").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def test_export_fp16_sha_and_load_model(folder, tmp_path):
    res = run(folder, tmp_path, steps=3, command="toy cmd")
    path = tmp_path / "toy.pth"
    assert res.export == path and res.sha256 == weights.sha256(path)
    assert (tmp_path / "toy.pth.sha256").read_text().split()[0] == res.sha256
    ck = torch.load(path, weights_only=True)
    assert all(v.dtype == torch.float16 for v in ck["state"].values() if v.is_floating_point())
    meta = ck["meta"]
    assert meta["method"] == "toy" and meta["steps"] == 3 and meta["size"] == 32 and meta["batch_size"] == 2
    assert meta["command"] == "toy cmd" and meta["final_losses"]["total"] == pytest.approx(res.curve()[-1])
    assert meta["config"] == {"width": 4, "lr": 1e-2, "batch_size": 2}
    model = train.load_model(TOY, path, sha=res.sha256)
    x = torch.rand(1, 3, 32, 32)
    res.model.eval()
    assert torch.allclose(model(x), res.model(x), atol=2e-2)
    with pytest.raises(CheckpointError):
        train.load_model(TOY, path, sha="0" * 64)


def test_eval_folder_logged(folder, tmp_path):
    res = run(folder, tmp_path, steps=4, ckpt_every=2, eval_content=folder)
    assert [r["step"] for r in res.eval_history] == [2, 4]
    assert (tmp_path / "eval.csv").is_file()


def test_bad_input(folder, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ImageError, match="holds no images"):
        run(empty)
    with pytest.raises(ArgumentError, match="unknown method"):
        train.train("johnsen", folder, STYLE, steps=1)
    with pytest.raises(ArgumentError):
        run(folder, steps=0)
    with pytest.raises(CheckpointError, match="no training checkpoint"):
        run(folder, tmp_path / "none", resume=True)
    # one unreadable file: skipped with a counted warning; 3 images < batch 8 still trains
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for p in folder.iterdir():
        (mixed / p.name).write_bytes(p.read_bytes())
    (mixed / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.warns(UserWarning, match="skipped 1 unreadable content"):
        res = run(mixed, steps=2, batch_size=8)
    assert len(res.history) == 2


def test_cli_errors(folder, tmp_path, capsys):
    from stylelab.__main__ import main
    assert main(["train", "nosuch", "--content-dir", str(folder), "--style", "starry_night",
                 "--out", str(tmp_path)]) == 1
    assert "unknown method" in capsys.readouterr().err
    assert main(["train", "johnson", "--content-dir", str(tmp_path / "missing"), "--style", "starry_night",
                 "--out", str(tmp_path)]) == 1
    assert "not a folder" in capsys.readouterr().err


def test_cli_trains_johnson_and_resumes(tmp_path):
    from stylelab.__main__ import main
    content = tmp_path / "photos"
    from stylelab import assets
    for n in ("chelsea", "coffee"):
        images.save(assets.load(n, 48), content / f"{n}.png")
    args = ["train", "johnson", "--content-dir", str(content), "--style", "starry_night", "--size", "32",
            "--batch-size", "1", "--out", str(tmp_path / "ck"), "--quiet", "--ckpt-every", "1"]
    assert main(args + ["--steps", "1"]) == 0
    assert main(args + ["--steps", "2", "--resume"]) == 0
    meta = torch.load(tmp_path / "ck" / "johnson.pth", weights_only=True)["meta"]
    assert meta["steps"] == 2 and meta["command"].startswith("python -m stylelab train johnson")
    assert meta["config"]["norm"] == "instance"
    model = train.load_model("johnson", tmp_path / "ck" / "johnson.pth")
    assert type(model).__name__ == "TransformNet"


# ---------------------------------------------------------------- DistributedDataParallel on gloo

def _ddp_worker(r, world, port, folder, out):
    os.environ.update(RANK=str(r), LOCAL_RANK=str(r), WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(1)
    res = train.train(TOY, folder, STYLE, size=32, steps=4, progress=False, device="cpu", out=out)
    weights_only = torch.cat([p.detach().flatten() for p in res.model.parameters()])
    torch.save({"params": weights_only, "history": res.history}, f"{out}/rank{r}.pt")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(sys.platform == "win32", reason="gloo on Windows is not tested")
def test_ddp_two_cpu_processes_stay_in_step(folder, tmp_path):
    import torch.multiprocessing as mp
    mp.spawn(_ddp_worker, args=(2, _free_port(), str(folder), str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    torch.manual_seed(0)
    init = torch.cat([p.detach().flatten() for p in toy_build().parameters()])  # the workers' start
    assert not torch.equal(r0["params"], init)             # they trained...
    assert torch.equal(r0["params"], r1["params"])         # ...and stayed identical
    assert r0["history"] != r1["history"]                  # although each saw its own batches
    assert (tmp_path / "toy.pth").is_file()


def test_model_from_checkpoint_names_the_wrong_method_and_a_misfit(folder, tmp_path):
    run(folder, tmp_path, steps=2)
    ck = checkpoints.load_inference(tmp_path / "toy.pth")
    assert train.model_from_checkpoint(TOY, ck, "toy.pth").training is False
    with pytest.raises(CheckpointError, match="holds a 'toy' model, not 'johnson'"):
        train.model_from_checkpoint("johnson", ck, "toy.pth")
    bad = {"meta": {**ck["meta"], "method": "johnson"}, "state": ck["state"]}
    with pytest.raises(CheckpointError, match="do not fit johnson's network"):
        train.model_from_checkpoint("johnson", bad, "toy.pth")


def test_every_method_without_a_shipped_model_says_so_in_one_line():
    shipped = {k.split("/")[0] for k in checkpoints.registry()}
    for name in sorted({"johnson", "adain", "cin", "adjustable", "metastyle", "din", "kernels"} - shipped):
        with pytest.raises(CheckpointError, match=f"no pretrained {name}/[a-z_]+ checkpoint") as e:
            methods.get(name).pretrained()
        assert "\n" not in str(e.value)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="gloo on Windows is not tested")
def test_torchrun_launches_the_command_line_on_two_cpu_processes(folder, tmp_path):
    """The documented multi-process launch, for real: torchrun, the CLI, gloo, one exported model."""
    import shutil
    import subprocess
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or shutil.which("torchrun")
    if torchrun is None:
        pytest.skip("torchrun is not on PATH")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [torchrun, "--standalone", "--nproc_per_node", "2", "-m", "stylelab", "train", "johnson",
           "--content-dir", str(folder), "--style", "starry_night", "--size", "32", "--steps", "2",
           "--batch-size", "2", "--out", str(tmp_path / "ck")]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "find_unused_parameters=True was specified" not in done.stderr
    model = train.load_model("johnson", tmp_path / "ck" / "johnson.pth")
    assert model(torch.rand(1, 3, 32, 32)).shape == (1, 3, 32, 32)


def test_only_a_method_that_leaves_parameters_out_asks_ddp_to_look_for_them():
    from stylelab.methods import kernels
    assert kernels.has_unused_parameters(kernels.build(kernels.Config(use_gate=False)))
    assert not kernels.has_unused_parameters(kernels.build(kernels.Config()))


def test_register_ships_an_export_with_its_hash(folder, tmp_path):
    res = run(folder, tmp_path / "run", steps=2)
    shelf = tmp_path / "shelf"
    entry = checkpoints.register(TOY, res.export, note="a test", directory=shelf)
    assert entry["file"] == "toy_default.pth" and entry["sha256"] == res.sha256 and entry["steps"] == 2
    listed = json.loads((shelf / "registry.json").read_text())["toy/default"]
    assert listed == entry and not list(shelf.glob("*.tmp"))
    back = checkpoints.load_inference(shelf / entry["file"], entry["sha256"])
    assert train.model_from_checkpoint(TOY, back, "toy/default")(torch.rand(1, 3, 32, 32)).shape == (1, 3, 32, 32)
    with pytest.raises(CheckpointError, match="not 'johnson'"):
        checkpoints.register(methods.get("johnson"), res.export, directory=shelf)


# ---------------------------------------------------------------- warm starts, schedules, config overrides

def test_init_starts_from_an_export_with_a_fresh_optimiser_and_records_the_chain(folder, tmp_path):
    first = run(folder, tmp_path / "a", steps=5, command="first")
    exported = train.load_model(TOY, first.export)
    warm = run(folder, tmp_path / "b", steps=1, lr=1e-12, init=first.export, command="second")
    # one step at a negligible learning rate: the weights are the export's (fp16), not a fresh net's
    weights_of = lambda m: torch.cat([p.detach().flatten() for p in m.parameters()])  # not BN's running stats
    assert torch.allclose(weights_of(warm.model), weights_of(exported), atol=1e-6)
    cold = run(folder, tmp_path / "c", steps=1, lr=1e-12)
    assert not torch.allclose(weights_of(cold.model), weights_of(exported), atol=1e-3)
    meta = torch.load(warm.export, weights_only=True)["meta"]
    assert meta["commands"] == ["first", "second"] and meta["steps_total"] == 6
    resumed = run(folder, tmp_path / "b", steps=3, lr=1e-12, init=first.export, command="second", resume=True)
    meta = torch.load(resumed.export, weights_only=True)["meta"]
    assert meta["commands"] == ["first", "second"] and meta["steps_total"] == 8  # the chain survives --resume
    assert meta["cpu_hours_total"] >= meta["cpu_hours"] >= 0


def test_init_copies_what_fits_and_refuses_a_file_where_nothing_does(folder, tmp_path):
    first = run(folder, tmp_path / "a", steps=2)
    wide = ToyConfig(width=6)   # the middle layers change shape, the last bias (3,) still fits
    with pytest.warns(UserWarning, match="copied 2 of 9"):  # the last bias and BN's batch counter
        run(folder, tmp_path / "b", steps=1, init=first.export, cfg=wide)
    other = tmp_path / "other.pth"
    checkpoints.save_inference({"x": torch.zeros(7)}, other, {"method": "toy"})
    with pytest.raises(CheckpointError, match="none of its tensors fit"):
        run(folder, tmp_path / "c", steps=1, init=other)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        run(folder, tmp_path / "d", steps=1, init=tmp_path / "missing.pth")


def test_cosine_schedule_warms_up_then_falls_to_a_hundredth():
    f = train.lr_factor("cosine", steps=100, warmup=0.1)
    lrs = [f(s) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:])) and lrs[-1] == pytest.approx(0.01)
    assert [train.lr_factor("constant", 10)(s) for s in range(10)] == [1.0] * 10


def test_resume_with_a_schedule_equals_uninterrupted(folder, tmp_path):
    kw = dict(ckpt_every=100, schedule="cosine", warmup=0.2)
    straight = run(folder, tmp_path / "a", steps=6, **kw)
    calls = {"n": 0}

    def flaky_loss(model, batch):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return toy_loss(model, batch)

    flaky = SimpleNamespace(__name__="toy", Config=ToyConfig, build=toy_build, loss=flaky_loss)
    with pytest.raises(KeyboardInterrupt):
        train.train(flaky, folder, STYLE, size=32, steps=6, progress=False, out=tmp_path / "b", **kw)
    resumed = run(folder, tmp_path / "b", steps=6, resume=True, **kw)
    assert resumed.history == straight.history  # the learning rate picks up where it stopped
    with pytest.raises(ArgumentError, match="schedule"):
        run(folder, steps=2, schedule="linear")


def test_config_overrides_parse_each_field_type():
    from stylelab.methods import adain
    cfg = train.config_overrides(adain.Config(), ["style_weight=0", "train_alpha=0.5", "batch_size=2"])
    assert (cfg.style_weight, cfg.train_alpha, cfg.batch_size) == (0.0, 0.5, 2)
    with pytest.raises(ArgumentError, match="KEY one of"):
        train.config_overrides(adain.Config(), ["no_such=1"])
    with pytest.raises(ArgumentError, match="not a valid float"):
        train.config_overrides(adain.Config(), ["style_weight=lots"])


def test_a_time_budget_stops_early_and_still_exports(folder, tmp_path, monkeypatch):
    clock = iter(range(0, 10_000, 10))  # every perf_counter call: 10 s later
    monkeypatch.setattr(time, "perf_counter", lambda: float(next(clock)))
    seen = []
    res = run(folder, tmp_path / "a", steps=50, minutes=1.0, callback=lambda s, m, t: seen.append((s, t)))
    assert 1 <= len(res.history) < 50          # stopped by the clock, after at least one step
    assert seen[-1][1] >= 60 and seen[-2][1] < 60 and [s for s, _ in seen] == list(range(1, len(seen) + 1))
    meta = torch.load(res.export, weights_only=True)["meta"]
    assert meta["steps"] == len(res.history) == len(seen)
    with pytest.raises(ArgumentError, match="minutes=0"):
        run(folder, tmp_path / "b", steps=2, minutes=0)


def test_init_by_shipped_name_reads_the_registry(folder, tmp_path, monkeypatch):
    first = run(folder, tmp_path / "a", steps=2)
    shelf = tmp_path / "shelf"
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", shelf)
    monkeypatch.setattr(checkpoints, "REGISTRY", shelf / "registry.json")
    checkpoints.register(TOY, first.export, name="mine", directory=shelf)
    start = train.load_start("toy/mine")
    assert torch.equal(start["state"]["0.weight"], checkpoints.load_inference(first.export)["state"]["0.weight"])
    with pytest.raises(CheckpointError, match="no pretrained toy/other"):
        train.load_start("toy/other")


def test_johnson_and_cin_translate_each_others_weights():
    from stylelab.methods import cin, johnson
    torch.manual_seed(0)
    single = johnson.build()
    multi = cin.build(cin.Config(n_styles=3))
    state = cin.state_from(multi, {"method": "johnson"}, single.state_dict())
    assert set(state) == set(multi.state_dict())          # every tensor of the CIN net is given
    multi.load_state_dict(state)
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():   # every style of the translated network is the Johnson network
        assert torch.allclose(multi(x, torch.tensor([0.0, 1.0, 0.0])), single(x), atol=1e-5)
        for norm in multi.norms():   # give the styles different parameters, then go back
            for g in norm.gamma:
                g.mul_(torch.rand_like(g) + 0.5)
    back = johnson.build()
    back.load_state_dict(johnson.state_from(back, {"method": "cin"}, multi.state_dict()))
    with torch.no_grad():   # the mean style: the CIN net with equal weights on every style
        assert torch.allclose(back(x), multi(x, torch.full((3,), 1 / 3)), atol=1e-5)


def test_cli_learns_a_new_style_from_a_shipped_start_within_minutes(tmp_path):
    if "johnson/starry_night" not in checkpoints.registry():
        pytest.skip("no Johnson network ships")
    out = tmp_path / "mine"
    assert train_cli.main(["johnson", "--style", "great_wave", "--from", "johnson/starry_night", "--minutes", "0.002",
                       "--steps", "500", "--size", "48", "--batch-size", "1", "--out", str(out), "--quiet"]) == 0
    meta = torch.load(out / "johnson.pth", weights_only=True)["meta"]
    assert 1 <= meta["steps"] < 500                     # the clock stopped it, not the steps
    shipped = checkpoints.registry()["johnson/starry_night"]
    assert meta["commands"][:-1] == shipped["commands"] and "--minutes 0.002" in meta["commands"][-1]
    start_cfg = train.load_start("johnson/starry_night")["meta"]["config"]
    assert meta["config"] == start_cfg                  # the start's config came with its weights


def test_adjustable_starts_from_a_johnson_network_of_its_size():
    from stylelab.methods import adjustable, johnson
    torch.manual_seed(0)
    single = johnson.build(johnson.Config(channels=(8, 16, 32), n_residual=2))
    meta = {"method": "johnson", "config": {"channels": (8, 16, 32), "n_residual": 2},
            "shipped_as": "johnson/starry_night"}
    cfg = train.start_config(adjustable, meta)
    assert (cfg.channels, cfg.n_residual, cfg.style_name) == ((8, 16, 32), 2, "starry_night")
    net = adjustable.build(cfg)
    state = adjustable.state_from(net, meta, single.state_dict())
    train.load_matching(net, state, "johnson")
    with torch.no_grad():
        net.lam[2].weight.zero_()  # without Lambda's alpha-dependent parts every alpha is the Johnson network
        x = torch.rand(1, 3, 32, 32)
        for a in (0.0, 0.7):
            assert torch.allclose(net(x, adjustable.make_alpha(net, a)), single(x), atol=1e-5)
    small = adjustable.build(adjustable.Config(channels=(4, 8, 16), n_residual=1))
    with pytest.raises(CheckpointError, match="same size"):
        adjustable.state_from(small, meta, {"encoder.0.1.weight": torch.zeros(1)})


def test_metastyle_settings_travel_with_the_network():
    from stylelab.methods import metastyle as ms
    cfg = ms.Config(channels=(4, 8, 16), n_residual=1, inner_lr=0.005)
    net = ms.build(cfg)
    assert ms.config_of(net).inner_lr == 0.005                      # what train_step and adapt read
    assert ms.config_of(torch.nn.Conv2d(1, 1, 1)) == ms.Config()    # a bare network: the defaults
    overridden = train.config_overrides(ms.Config(), ["inner_lr=0.005", "tasks=2"])
    assert ms.config_of(ms.build(overridden)).tasks == 2            # --set reaches the meta step
