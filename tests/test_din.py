"""DIN: the dynamic instance normalisation op, its AdaIN special case, stroke controls, training."""
import pytest
import torch
import torch.nn.functional as F

from stylelab import stats
from stylelab.errors import ArgumentError, CheckpointError
from stylelab.methods import din


def _feats(seed=0, b=2, c=8, h=10, w=12):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, c, h, w, generator=g) * 3 + 1, torch.randn(b, c, h + 3, w - 2, generator=g) * 2 - 1


def test_adain_is_din_with_a_1x1_depthwise_kernel():
    x, y = _feats()
    w, b = din.adain_params(y)
    assert w.shape == (2, 8, 1, 1, 1) and b.shape == (2, 8)
    assert torch.allclose(din.dynamic_instance_norm(x, w, b), stats.adain(x, y), atol=1e-5)


def test_dynamic_conv_is_a_per_sample_grouped_conv():
    x, _ = _feats()
    g = torch.Generator().manual_seed(1)
    w, b = torch.randn(2, 8, 2, 3, 3, generator=g), torch.randn(2, 8, generator=g)  # 4 groups of 2
    ref = torch.cat([F.conv2d(F.pad(x[i:i + 1], (1, 1, 1, 1), mode="reflect"), w[i], b[i], groups=4)
                     for i in range(2)])
    assert torch.allclose(din.dynamic_conv(x, w, b), ref, atol=1e-5)
    # dilation 2 reads pixels two apart
    ref2 = torch.cat([F.conv2d(F.pad(x[i:i + 1], (2, 2, 2, 2), mode="reflect"), w[i], b[i], groups=4, dilation=2)
                      for i in range(2)])
    assert torch.allclose(din.dynamic_conv(x, w, b, dilation=2), ref2, atol=1e-5)


def test_deformable_with_zero_offsets_equals_regular_and_shifts_move_it():
    x, _ = _feats()
    g = torch.Generator().manual_seed(2)
    w, b = torch.randn(2, 8, 1, 3, 3, generator=g), torch.randn(2, 8, generator=g)
    zero = torch.zeros(2, 18, 10, 12)
    assert torch.allclose(din.dynamic_conv(x, w, b, offset=zero), din.dynamic_conv(x, w, b), atol=1e-4)
    shift = zero.clone()
    shift[:, 1::2] = 1.0  # every tap samples one pixel to the right
    moved = din.dynamic_conv(x, w, b, offset=shift)
    ref = din.dynamic_conv(torch.roll(x, -1, dims=-1), w, b)
    assert torch.allclose(moved[..., 1:-2], ref[..., 1:-2], atol=1e-4)


def test_kernel_shape_errors():
    x, _ = _feats()
    with pytest.raises(ArgumentError):
        din.dynamic_conv(x, torch.randn(2, 8, 3, 3))          # 4-d kernel
    with pytest.raises(ArgumentError):
        din.dynamic_conv(x, torch.randn(3, 8, 1, 1, 1))       # wrong batch
    with pytest.raises(ArgumentError):
        din.DINLayer(8, 16, kernel_size=2)


def test_untrained_layer_is_instance_norm_and_predicts_style_dependent_kernels():
    torch.manual_seed(0)
    layer = din.DINLayer(16, 32, kernel_size=3, group_channels=4)
    x = torch.randn(2, 16, 9, 9) * 5 + 2
    s1, s2 = torch.rand(1, 32, 12, 12), torch.rand(1, 32, 12, 12) * 3
    with torch.no_grad():       # only values are checked here
        w, b = layer.predict(s1)
    assert w.shape == (1, 16, 4, 3, 3) and b.shape == (1, 16)
    # the identity around which kernels are predicted: near-zero dW, zero bias -> plain IN
    # (within a quarter of IN's own size: the small random dW and the offsets move it a little)
    n = stats.normalize(x)
    with torch.no_grad():
        assert float((layer(x, w, b) - n).abs().mean()) < 0.25 * float(n.abs().mean())
        assert not torch.allclose(w, layer.predict(s2)[0])


def test_stylize_controls_change_the_picture(content, style):
    torch.manual_seed(0)
    model = din.build().eval()
    with torch.no_grad():  # give the offset nets something to say
        for layer in model.din:
            layer.offset_net.weight.normal_(std=0.5)
    code = model.encode_style(style)
    base = din.stylize(content, code, model=model)
    assert base.shape == content.shape and 0 <= float(base.min()) and float(base.max()) <= 1
    assert torch.allclose(din.stylize(content, style, model=model), base, atol=1e-5)  # cached style = uncached
    assert (din.stylize(content, code, model=model, deformable=False) - base).abs().mean() > 1e-4  # trained with it on
    assert (din.stylize(content, code, model=model, stroke_mask="auto", stroke_dilation=3) - base).abs().mean() > 1e-4
    assert (din.stylize(content, code, model=model, alpha=0.3) - base).abs().mean() > 1e-4
    # a zero mask changes nothing, whatever the dilation
    zeros = torch.zeros(content.shape[-2:])
    assert torch.allclose(din.stylize(content, code, model=model, stroke_mask=zeros, stroke_dilation=3), base, atol=1e-5)
    with pytest.raises(ArgumentError):
        din.stylize(content, code, model=model, alpha=1.5)
    with pytest.raises(ArgumentError):
        din.stylize(content, code, model=model, stroke_mask="big")


def test_structure_mask_is_large_where_flat():
    x = torch.zeros(1, 3, 32, 32)
    x[..., :, 16:] = torch.rand(1, 3, 32, 16)  # noisy right half, flat left half
    m = din.structure_mask(x, blur=5)
    assert m.shape == (1, 1, 32, 32)
    assert float(m[..., :, :8].mean()) > 0.9 > float(m[..., :, 24:].mean())


def test_training_lowers_the_loss(content, style):
    from stylelab import train
    r = train.train(din, [content], [style], size=32, steps=8, batch_size=2, lr=3e-3, progress=False)
    first = sum(h["total"] for h in r.history[:2]) / 2
    last = sum(h["total"] for h in r.history[-2:]) / 2
    assert last < first


def test_vgg_is_not_part_of_the_model():
    model = din.build()
    assert not any(k.startswith(("vgg", "encoder.layers")) for k in model.state_dict())
    assert all("conv4_1" not in k for k in model.state_dict())


def test_pretrained_loads_the_shipped_model_or_says_how_to_train_one(tmp_path, monkeypatch):
    import json
    from stylelab import checkpoints
    if "din/default" in checkpoints.registry():
        model = din.pretrained()
        assert not model.training and any(p.abs().sum() > 0 for p in model.parameters())
    monkeypatch.setattr(checkpoints, "REGISTRY", tmp_path / "registry.json")
    (tmp_path / "registry.json").write_text(json.dumps({}))
    with pytest.raises(CheckpointError, match="train"):
        din.pretrained()


def test_flops_ratio_is_large():
    from stylelab.bench import din as bench
    t = bench.cost_table(64)
    assert t["ratio"]["content_total"] > 20
    assert t["din"]["content_total"][0] == sum(t["din"][p][0] for p in ("encoder", "transform", "decoder"))


def test_reconstruction_warm_up_bypasses_the_din_layers(content, style):
    """train_alpha = 0: the content network alone; the loss is the content and pixel terms only."""
    torch.manual_seed(0)
    model = din.build(din.Config(train_alpha=0.0, style_weight=0.0, pixel_weight=2.0))
    c, s = content[..., :32, :32], style[..., :32, :32]
    terms = din.loss(model, {"content": c, "style": s, "style_index": torch.zeros(1)})
    assert set(terms) == {"content", "pixel"}
    with torch.no_grad():
        out = model(c, s, alpha=0.0)
        assert torch.allclose(out, model(c, torch.rand_like(s), alpha=0.0))  # the style plays no part
        assert torch.allclose(terms["pixel"].detach(), 2.0 * ((out - c) ** 2).mean(), rtol=1e-4)


def test_identity_term_styles_the_photo_with_itself(content, style):
    """identity_weight: w * ||T(c, c) - c||^2, which depends on c alone, not on the batch's style."""
    torch.manual_seed(0)
    model = din.build(din.Config(style_weight=0.0, identity_weight=3.0))
    c, s = content[..., :32, :32], style[..., :32, :32]
    terms = din.loss(model, {"content": c, "style": s, "style_index": torch.zeros(1)})
    assert set(terms) == {"content", "identity"}
    with torch.no_grad():
        want = 3.0 * ((model(c, c) - c) ** 2).mean()
    assert torch.allclose(terms["identity"].detach(), want, rtol=1e-4)
    again = din.loss(model, {"content": c, "style": torch.rand_like(s), "style_index": torch.zeros(1)})
    assert torch.allclose(again["identity"].detach(), terms["identity"].detach())


def test_content_target_adain_is_adains_target_in_vgg_space(content, style):
    """content_target="adain": the content term compares phi_4_1(o) with AdaIN(phi_4_1(c), phi_4_1(s))."""
    from stylelab.encoders import vgg19
    torch.manual_seed(0)
    model = din.build(din.Config(style_weight=0.0, content_target="adain"))
    c, s = content[..., :32, :32], style[..., :32, :32]
    terms = din.loss(model, {"content": c, "style": s, "style_index": torch.zeros(1)})
    vgg = vgg19()
    with torch.no_grad():
        want = ((vgg.encode(model(c, s), ["relu4_1"])["relu4_1"]
                 - stats.adain(vgg.encode(c, ["relu4_1"])["relu4_1"], vgg.encode(s, ["relu4_1"])["relu4_1"])) ** 2).mean()
    assert torch.allclose(terms["content"].detach(), want, rtol=1e-4)
    model.cfg = din.Config(content_target="style")
    with pytest.raises(ArgumentError, match="content_target"):
        din.loss(model, {"content": c, "style": s, "style_index": torch.zeros(1)})
