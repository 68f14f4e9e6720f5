"""The shipped checkpoints: every registry entry loads offline, hash-checked, and stylises; a
removed or altered file is a clear one-line CheckpointError, never a silent random network."""
import shutil

import pytest
import torch

from stylelab import CheckpointError, assets, checkpoints, methods, weights

REGISTRY = checkpoints.registry()
ENTRIES = sorted(REGISTRY)


def test_registry_entries_name_real_files_with_their_hash_and_training_facts():
    for key in ENTRIES:
        entry = REGISTRY[key]
        path = checkpoints.CHECKPOINT_DIR / entry["file"]
        assert path.is_file(), f"{key}: {entry['file']} is listed but missing"
        assert weights.sha256(path) == entry["sha256"] and path.stat().st_size == entry["bytes"]
        for fact in ("commands", "steps", "batch_size", "size", "cpu_hours_total", "validation"):
            assert fact in entry, f"{key}: the registry entry does not record {fact!r}"
        ck = torch.load(path, weights_only=True)
        floats = {k: v for k, v in ck["state"].items() if v.is_floating_point()}
        wide = {k for k, v in floats.items() if v.dtype != torch.float16}
        # fp16 everywhere, except a tensor fp16 cannot hold (kept fp32 rather than made infinite)
        assert all(floats[k].dtype == torch.float32 and floats[k].abs().max() > 65504 for k in wide), (key, wide)
        assert sum(floats[k].numel() for k in wide) < 100, (key, wide)    # a few numbers, not weights


@pytest.mark.parametrize("key", ENTRIES)
def test_every_entry_loads_and_stylises(key):
    name, _, ckpt = key.partition("/")
    mod = methods.get(name)
    model = mod.pretrained(ckpt) if ckpt != "default" else mod.pretrained()
    assert not model.training
    content = assets.load("chelsea", 96)
    if mod.STYLE_INPUT == methods.TRAINED_STYLE:   # the network's own style
        out = mod.stylize(content, model=model)
    else:
        out = mod.stylize(content, assets.load("starry_night", 96), model=model)
    assert out.shape == content.shape and torch.isfinite(out).all()
    assert 0 <= out.min() and out.max() <= 1
    assert out.std() > 0.02, "a trained model paints a picture, not a flat field"


@pytest.fixture
def shelf(tmp_path, monkeypatch):
    """A copy of the shipped checkpoints that a test may break."""
    if not ENTRIES:
        pytest.skip("no checkpoint ships")
    copy = tmp_path / "checkpoints"
    shutil.copytree(checkpoints.CHECKPOINT_DIR, copy)
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", copy)
    monkeypatch.setattr(checkpoints, "REGISTRY", copy / "registry.json")
    return copy


@pytest.mark.parametrize("damage", ["remove", "alter", "truncate"])
def test_a_removed_or_altered_file_is_a_clear_error(shelf, damage):
    key = ENTRIES[0]
    name = key.split("/")[0]
    path = shelf / REGISTRY[key]["file"]
    if damage == "remove":
        path.unlink()
    elif damage == "alter":
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    else:
        path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointError) as e:
        methods.get(name).pretrained()
    msg = str(e.value)
    assert "\n" not in msg
    assert ("no such checkpoint" in msg) if damage == "remove" else ("does not match the registry" in msg)


def test_an_unlisted_name_says_what_ships(shelf):
    name = ENTRIES[0].split("/")[0]
    with pytest.raises(CheckpointError, match=f"shipped for {name}"):
        methods.get(name).pretrained("no_such_name")


def test_values_beyond_fp16_stay_fp32_in_an_export(tmp_path):
    # the adjustable network's moving averages of raw VGG losses reach 1e6: as fp16 they became
    # infinities, and a run continued from the export trained with those layers switched off
    state = {"w": torch.full((3,), 0.5), "loss_ema": torch.tensor([6.4e5, 4.2e3]), "steps": torch.tensor(7)}
    checkpoints.save_inference(state, tmp_path / "m.pth", {"method": "toy"})
    raw = torch.load(tmp_path / "m.pth", weights_only=True)["state"]
    assert raw["w"].dtype == torch.float16 and raw["loss_ema"].dtype == torch.float32
    back = checkpoints.load_inference(tmp_path / "m.pth")["state"]
    assert torch.equal(back["loss_ema"], state["loss_ema"]) and torch.isfinite(back["loss_ema"]).all()
    assert back["steps"] == 7
