"""stylelab.images: every kind of input loads to (1,3,H,W) in [0,1]; every bad input is one clear error."""
import io

import numpy as np
import pytest
import torch
from PIL import Image

from stylelab import assets, config, images
from stylelab.errors import ImageError, StylelabError


def _save(img, path, **kw):
    img.save(path, **kw)
    return path


def test_load_path_pil_array_tensor_agree(tmp_path):
    rgb = (np.random.default_rng(0).random((40, 60, 3)) * 255).astype(np.uint8)
    p = _save(Image.fromarray(rgb), tmp_path / "a.png")
    a = images.load(p)
    b = images.load(Image.fromarray(rgb))
    c = images.load(rgb)
    d = images.load(torch.from_numpy(rgb).permute(2, 0, 1).float() / 255)
    assert a.shape == (1, 3, 40, 60)
    for t in (b, c, d):
        assert torch.allclose(a, t, atol=1e-6)
    assert 0.0 <= float(a.min()) and float(a.max()) <= 1.0


def test_resize_by_long_side_keeps_aspect():
    x = assets.load("chelsea")
    h, w = x.shape[-2:]
    y = images.load(x, size=100)
    assert max(y.shape[-2:]) == 100
    assert abs(y.shape[-2] / y.shape[-1] - h / w) < 0.02


@pytest.mark.parametrize("mode", ["L", "RGBA", "CMYK", "P", "LA", "I;16", "1"])
def test_odd_modes_become_rgb(tmp_path, mode):
    base = Image.fromarray((np.random.default_rng(1).random((48, 48, 3)) * 255).astype(np.uint8))
    if mode == "I;16":
        img = Image.fromarray((np.arange(48 * 48).reshape(48, 48) * 28).astype(np.uint16))
    elif mode == "P":
        img = base.convert("P", palette=Image.Palette.ADAPTIVE)
    else:
        img = base.convert(mode)
    suffix = ".tif" if mode == "CMYK" else ".png"
    p = _save(img, tmp_path / f"img{suffix}")
    x = images.load(p)
    assert x.shape == (1, 3, 48, 48) and x.dtype == torch.float32
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0


def test_sixteen_bit_uses_full_range(tmp_path):
    a = np.full((40, 40), 65535, dtype=np.uint16)
    a[:20] = 0
    x = images.load(_save(Image.fromarray(a), tmp_path / "a.png"))
    assert float(x.max()) == pytest.approx(1.0) and float(x.min()) == pytest.approx(0.0)


def test_rgba_transparent_becomes_white(tmp_path):
    a = np.zeros((40, 40, 4), dtype=np.uint8)  # fully transparent black
    x = images.load(_save(Image.fromarray(a, "RGBA"), tmp_path / "t.png"))
    assert torch.allclose(x, torch.ones_like(x))


def test_exif_orientation_is_honoured(tmp_path):
    img = Image.new("RGB", (64, 40), (255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    p = _save(img, tmp_path / "rot.jpg", exif=exif.tobytes())
    assert images.load(p).shape[-2:] == (64, 40)


@pytest.mark.parametrize("make,match", [
    (lambda d: d / "missing.jpg", "no such file"),
    (lambda d: (d / "empty.jpg", (d / "empty.jpg").write_bytes(b""))[0], "empty"),
    (lambda d: (d / "text.jpg", (d / "text.jpg").write_text("hello, not an image"))[0], "not an image"),
    (lambda d: d, "folder"),
])
def test_bad_files_give_one_line_errors(tmp_path, make, match):
    with pytest.raises(ImageError, match=match) as e:
        images.load(make(tmp_path))
    assert "\n" not in str(e.value)


def test_truncated_jpeg(tmp_path):
    buf = io.BytesIO()
    Image.fromarray((np.random.default_rng(2).random((128, 128, 3)) * 255).astype(np.uint8)).save(buf, "JPEG")
    p = tmp_path / "cut.jpg"
    p.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ImageError, match="damaged"):
        images.load(p)


def test_decompression_bomb_is_refused_before_decoding(tmp_path, monkeypatch):
    p = _save(Image.new("RGB", (300, 300)), tmp_path / "big.png")
    monkeypatch.setattr(config, "MAX_PIXELS", 10_000)
    with pytest.raises(ImageError, match="MAX_PIXELS"):
        images.load(p)


def test_too_small_for_the_encoder():
    with pytest.raises(ImageError, match="smaller than the encoder"):
        images.load(torch.rand(1, 3, 8, 8))
    with pytest.raises(ImageError, match="smaller than the encoder"):
        images.load(assets.path("chelsea"), size=16)


@pytest.mark.parametrize("t,match", [
    (torch.full((1, 3, 40, 40), float("nan")), "NaN"),
    (torch.rand(1, 4, 40, 40), "not an RGB image"),
    (torch.rand(40, 40), "not an RGB image"),
    (torch.rand(1, 3, 40, 40) * 255, "divide"),
    (torch.zeros(1, 3, 40, 40, dtype=torch.uint8), "floating point"),
])
def test_bad_tensors(t, match):
    with pytest.raises(ImageError, match=match):
        images.load(t)


def test_unsupported_type():
    with pytest.raises(StylelabError, match="cannot load"):
        images.load(3.14)


def test_batch_tensor_kept():
    x = torch.rand(4, 3, 40, 40)
    assert images.load(x).shape == (4, 3, 40, 40)


def test_save_roundtrip_and_grid(tmp_path):
    x = assets.load("coffee", size=64)
    p = images.save(x, tmp_path / "out" / "x.png")
    assert torch.allclose(images.load(p), x, atol=1 / 255 + 1e-6)
    assert not list((tmp_path / "out").glob(".*tmp*"))
    g = images.grid([x, assets.load("great_wave", size=64)], height=50, pad=2)
    assert g.shape[-2] == 54 and g.shape[1] == 3


def test_show_returns_a_figure():
    import matplotlib
    matplotlib.use("Agg")
    fig = images.show([assets.load("coffee", 48), assets.load("great_wave", 48)], titles=["a", "b"])
    assert len([a for a in fig.axes if a.images]) == 2


def test_assets_listed_and_loaded():
    assert len(assets.names("content")) >= 5 and len(assets.names("style")) >= 8
    for name in assets.names():
        assert max(assets.load(name).shape[-2:]) <= 512
    with pytest.raises(ImageError, match="no bundled image"):
        assets.path("mona_lisa_nope")
    assert assets.resolve("starry_night", 64).shape[1] == 3
