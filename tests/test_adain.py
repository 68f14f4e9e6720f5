"""AdaIN: the target feature against the formula, controls, errors, training, video I/O."""
import pytest
import torch

from stylelab import CheckpointError, ArgumentError, ImageError, stats, video
from stylelab.methods import adain


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return adain.build(adain.Config(width=0.25)).eval()


@pytest.fixture(scope="module")
def feats(model, content, style):
    return model.encode(content), adain.encode_style(style, model=model)


def test_target_is_adain_formula(model, content, style, feats):
    fc, s = feats
    fs = model.encode(style)
    sd = lambda f: (f.var(dim=(2, 3), unbiased=False, keepdim=True) + 1e-5).sqrt()
    by_hand = sd(fs) * (fc - fc.mean((2, 3), keepdim=True)) / sd(fc) + fs.mean((2, 3), keepdim=True)
    t = adain.adain_target(fc, [s])
    assert torch.allclose(t, stats.adain(fc, fs), atol=1e-4)
    assert torch.allclose(t, by_hand, rtol=1e-3, atol=1e-2)
    assert torch.allclose(adain.adain_target(fc, [s], alpha=0.0), fc)
    half = adain.adain_target(fc, [s], alpha=0.3)
    assert torch.allclose(half, 0.7 * fc + 0.3 * t, atol=1e-4)


def test_interpolation_and_full_mask_match_formula(model, content, feats):
    fc, s1 = feats
    s2 = adain.encode_style("the_scream", model, size=64)
    t = adain.adain_target(fc, [s1, s2], [0.25, 0.75])
    want = 0.25 * (s1.std * stats.normalize(fc) + s1.mean) + 0.75 * (s2.std * stats.normalize(fc) + s2.mean)
    assert torch.allclose(t, want, atol=1e-3)
    ones = torch.ones(1, 1, *content.shape[-2:])
    assert torch.allclose(adain.adain_target(fc, [s1], masks=ones), adain.adain_target(fc, [s1]), atol=1e-2)


def test_stylize_shape_range_and_cache(model, style):
    c = torch.rand(1, 3, 50, 70)  # not a multiple of 8: padded and cropped back
    out = adain.stylize(c, style, model=model)
    assert out.shape == c.shape and 0 <= out.min() and out.max() <= 1
    cached = adain.encode_style(style, model=model)
    assert torch.allclose(adain.stylize(c, cached, model=model), out, atol=1e-5)
    a0 = adain.stylize(c, cached, alpha=0.0, model=model)
    assert not torch.allclose(a0, out, atol=1e-3)  # alpha changes the picture
    col = adain.stylize(c, cached, preserve_color="histogram", model=model)
    assert not torch.allclose(col, out, atol=1e-3)
    lum = adain.stylize(c, cached, preserve_color=True, model=model)
    assert torch.allclose(lum, stats.luminance_transfer(out, c), atol=1e-5)
    with pytest.raises(ArgumentError, match="preserve_color"):
        adain.stylize(c, cached, preserve_color="sepia", model=model)


def test_mask_confines_each_style(model, content):
    a = adain.encode_style("starry_night", model, size=64)
    b = adain.encode_style("brick_texture", model, size=64)
    h, w = content.shape[-2:]
    m = torch.zeros(h, w)
    m[:, : w // 2] = 1
    both = adain.stylize(content, [a, b], mask=m, model=model)
    only_a = adain.stylize(content, a, model=model)
    only_b = adain.stylize(content, b, model=model)
    left, right = slice(0, w // 2 - 12), slice(w // 2 + 12, w)
    d = lambda x, y, cols: float((x[..., cols] - y[..., cols]).abs().mean())
    assert d(both, only_a, left) < d(both, only_b, left)
    assert d(both, only_b, right) < d(both, only_a, right)


def test_bad_arguments(model, content, style):
    with pytest.raises(ArgumentError, match="alpha"):
        adain.stylize(content, style, alpha=1.5, model=model)
    with pytest.raises(ArgumentError, match="positive"):
        adain.stylize(content, [style, style], style_weights=[0, 0], model=model)
    with pytest.raises(ArgumentError, match="one weight per style"):
        adain.stylize(content, [style, style], style_weights=[1], model=model)
    with pytest.raises(ArgumentError, match="content is"):
        adain.stylize(content, [style, style], mask=torch.ones(10, 40), model=model)
    with pytest.raises(ArgumentError, match="one mask per style"):
        adain.stylize(content, [style] * 3, mask=torch.ones(content.shape[-2:]), model=model)
    with pytest.raises(ImageError, match="no frames"):
        adain.stylize_video([], style, model=model)
    with pytest.raises(CheckpointError, match="train"):   # a name that does not ship says how to train one
        adain.pretrained("no_such_decoder")


def test_mask_of_same_aspect_is_resized(model, content, style):
    h, w = content.shape[-2:]
    out = adain.stylize(content, [style, "the_scream"], mask=torch.ones(2 * h, 2 * w), model=model)
    assert out.shape == content.shape


def test_loss_terms_and_training_lowers_loss(content, style):
    torch.manual_seed(0)
    m = adain.build(adain.Config(width=0.25))
    batch = {"content": content[..., :32, :32], "style": style[..., :32, :32], "style_index": torch.zeros(1)}
    terms = adain.loss(m, batch)
    assert set(terms) == {"content", "style"} and all(torch.isfinite(v) for v in terms.values())
    opt = torch.optim.Adam(m.decoder.parameters(), lr=1e-3)
    first = None
    for _ in range(8):
        total = sum(adain.loss(m, batch).values())
        first = first if first is not None else float(total.detach())
        opt.zero_grad()
        total.backward()
        opt.step()
    with torch.no_grad():
        assert float(sum(adain.loss(m, batch).values())) < 0.8 * first
    assert not any(k.startswith("encoder") or "vgg" in k for k in m.state_dict())


def test_video_gif_and_mp4(model, tmp_path):
    frames = video.pan_frames("chelsea", n=4, size=32)
    gif = video.write_frames(frames, tmp_path / "in.gif", fps=5)
    res = adain.stylize_video(gif, "starry_night", out=tmp_path / "out.gif", model=model,
                              style_size=64, progress=False, verbose=False)
    back, fps = video.read_frames(res.path)
    assert len(back) == 4 and back[0].shape == (1, 3, 32, 32) and fps == pytest.approx(5)
    assert res.flicker > 0
    mp4 = video.write_frames(frames, tmp_path / "in.mp4", fps=5)
    got, _ = video.read_frames(mp4)
    assert len(got) == 4 and (got[2] - frames[2]).abs().mean() < 0.05


def test_flicker_formula():
    a = [torch.zeros(1, 3, 8, 8), torch.full((1, 3, 8, 8), 0.1), torch.full((1, 3, 8, 8), 0.2)]
    b = [torch.zeros(1, 3, 8, 8), torch.full((1, 3, 8, 8), 0.3), torch.zeros(1, 3, 8, 8)]
    assert video.flicker(b, a) == pytest.approx(3.0, rel=1e-4)
    assert video.flicker(a, a) == pytest.approx(1.0)


def test_reconstruction_warm_up_loss_is_the_formula(content, style):
    """train_alpha = 0, style_weight = 0: L = ||f(g(f(c))) - f(c)||^2 + w_pix ||g(f(c)) - c||^2."""
    torch.manual_seed(0)
    cfg = adain.Config(width=0.25, train_alpha=0.0, style_weight=0.0, pixel_weight=5.0)
    m = adain.build(cfg)
    c, s = content[..., :32, :32], style[..., :32, :32]
    terms = adain.loss(m, {"content": c, "style": s, "style_index": torch.zeros(1)})
    assert set(terms) == {"content", "pixel"}
    with torch.no_grad():
        fc = m.encode(c)
        out = m.decoder(fc)
        want_c = ((m.encode(out) - fc) ** 2).mean()
        want_p = 5.0 * ((out - c) ** 2).mean()
    assert torch.allclose(terms["content"].detach(), want_c, rtol=1e-4)
    assert torch.allclose(terms["pixel"].detach(), want_p, rtol=1e-4)
    # the style image plays no part in the warm-up
    other = adain.loss(m, {"content": c, "style": torch.rand_like(s), "style_index": torch.zeros(1)})
    assert torch.allclose(other["content"].detach(), terms["content"].detach(), rtol=1e-5)


def test_feature_scale_divides_each_layer_before_the_losses(content, style):
    """Scaling every layer's features by k divides both squared-error losses by k^2; one number per
    layer is required."""
    torch.manual_seed(0)
    m = adain.build(adain.Config(width=0.25))
    batch = {"content": content[..., :32, :32], "style": style[..., :32, :32], "style_index": torch.zeros(1)}
    with torch.no_grad():
        raw = adain.loss(m, batch)
        m.cfg = adain.Config(width=0.25, feature_scale=(4.0, 4.0, 4.0, 4.0))
        scaled = adain.loss(m, batch)
        for k in ("content", "style"):
            assert torch.allclose(scaled[k], raw[k] / 16, rtol=1e-3)
        m.cfg = adain.Config(width=0.25, feature_scale=(1.0, 2.0))
        with pytest.raises(ArgumentError, match="one number per layer"):
            adain.loss(m, batch)


def test_identity_term_decodes_the_photos_own_features(content, style):
    """identity_weight: w ||g(f(c)) - c||^2 next to the paper's two terms; it ignores the style."""
    torch.manual_seed(0)
    m = adain.build(adain.Config(width=0.25, identity_weight=3.0))
    c, s = content[..., :32, :32], style[..., :32, :32]
    terms = adain.loss(m, {"content": c, "style": s, "style_index": torch.zeros(1)})
    assert set(terms) == {"content", "style", "identity"}
    with torch.no_grad():
        want = 3.0 * ((m.decoder(m.encode(c)) - c) ** 2).mean()
        other = adain.loss(m, {"content": c, "style": torch.rand_like(s), "style_index": torch.zeros(1)})
    assert torch.allclose(terms["identity"].detach(), want, rtol=1e-4)
    assert torch.allclose(other["identity"], terms["identity"].detach(), rtol=1e-5)


def test_content_target_content_compares_with_the_photos_own_features(content, style):
    """content_target="content": L_c = ||f(g(t)) - f(c)||^2 (scaled like the style layers) instead
    of the paper's ||f(g(t)) - t||^2; the style term is the same; anything else is refused."""
    torch.manual_seed(0)
    scale = (2.0, 3.0, 4.0, 5.0)
    m = adain.build(adain.Config(width=0.25, feature_scale=scale))
    c, s = content[..., :32, :32], style[..., :32, :32]
    batch = {"content": c, "style": s, "style_index": torch.zeros(1)}
    with torch.no_grad():
        paper = adain.loss(m, batch)
        m.cfg = adain.Config(width=0.25, feature_scale=scale, content_target="content")
        own = adain.loss(m, batch)
        fc, fs = m.encode(c), m.encode(s)
        out = m.decoder(stats.adain(fc, fs))
        want = ((m.encode(out) - fc) ** 2).mean() / 25.0
        wrong = ((m.encode(out) - stats.adain(fc, fs)) ** 2).mean() / 25.0
    assert torch.allclose(own["content"], want, rtol=1e-4) and torch.allclose(paper["content"], wrong, rtol=1e-4)
    assert not torch.allclose(own["content"], paper["content"], rtol=1e-2)
    assert torch.allclose(own["style"], paper["style"])
    m.cfg = adain.Config(width=0.25, content_target="photo")
    with pytest.raises(ArgumentError, match="content_target"):
        adain.loss(m, batch)
