"""MetaStyle: bilevel updates (first and second order), adaptation, caching, errors."""
import copy

import pytest
import torch
import torch.nn as nn

import stylelab
from stylelab import assets
from stylelab.methods import metastyle as ms
from stylelab.train import recipes

S = 32  # px: the smallest side the VGG encoder takes


def tiny_cfg(**kw):
    base = dict(channels=(8, 8, 8), n_residual=1, content_layers=("relu2_1",),
                style_layers=("relu1_1", "relu2_1"), inner_steps=1, size=S)
    base.update(kw)
    return ms.Config(**base)


@pytest.fixture(scope="module")
def data():
    content = ms.content_batch(["chelsea", "coffee", "red_panda", "great_wall"], S)
    style = ms._square(assets.load("starry_night", 64), S)
    return content, style


def test_norm_parameters_are_the_instance_norm_affines():
    model = ms.build(tiny_cfg())
    names = ms.adapted_names(model, "norm")
    n_norm = sum(isinstance(m, nn.InstanceNorm2d) for m in model.modules())
    assert len(names) == 2 * n_norm and all(n.endswith((".weight", ".bias")) for n in names)
    assert set(names) < set(ms.adapted_names(model, "all"))


def test_first_order_gradient_is_the_gradient_at_the_adapted_parameters(data):
    content, style = data
    cfg = tiny_cfg(order="first")
    torch.manual_seed(0)
    model = ms.build(cfg)
    grams = ms.style_targets(style, cfg)
    support, query = content[:2], content[2:]
    fast = ms.inner_loop(model, support, grams, cfg, second_order=False)
    # by hand: one clipped gradient step on a copy, then the query gradient there
    ref = copy.deepcopy(model)
    total = sum(ms.perceptual_terms(ref(support), support, grams, cfg).values())
    g = torch.autograd.grad(total, list(ref.parameters()))
    norm = torch.sqrt(sum((x * x).sum() for x in g))
    with torch.no_grad():
        for p, gi in zip(ref.parameters(), g):
            p -= cfg.inner_lr * gi * min(1.0, cfg.inner_clip / float(norm))
    for (n, p), q in zip(ref.named_parameters(), ref.parameters()):
        assert torch.allclose(fast[n], q, atol=1e-6), n
    q_total = sum(ms.perceptual_terms(ref(query), query, grams, cfg).values())
    expected = torch.autograd.grad(q_total, list(ref.parameters()))
    # meta_step with a huge clip and SGD(lr=1) applies exactly minus the meta-gradient
    cfg.clip = 1e30
    before = [p.detach().clone() for p in model.parameters()]
    ms.meta_step(model, [(style, support, query)], torch.optim.SGD(model.parameters(), lr=1.0), cfg)
    scale = max(float(e.abs().max()) for e in expected)  # conv biases before IN get ~0 gradients: compare globally
    for b, p, e in zip(before, model.parameters(), expected):
        assert torch.allclose(b - p.detach(), e, rtol=1e-3, atol=1e-5 * scale)


def test_second_order_gradient_is_the_chain_rule_through_the_inner_step(data):
    """For one step theta' = theta - d * g_sup(theta) on the norm parameters, the exact meta-gradient is
    grad_q(theta') - d * d/dtheta <g_sup(theta), grad_q(theta')>  (a Hessian-vector product)."""
    content, style = data
    d = 1e-4
    cfg = tiny_cfg(order="second", adapt="norm", inner_lr=d, inner_clip=1e12)  # a plain, unclipped step
    torch.manual_seed(0)
    model = ms.build(cfg)
    grams = ms.style_targets(style, cfg)
    support, query = content[:2], content[2:]
    theta = dict(model.named_parameters())
    names = ms.adapted_names(model, "norm")

    fast = ms.inner_loop(model, support, grams, cfg, second_order=True)
    total, _ = ms.bilevel._task_loss(model, {**theta, **fast}, query, grams, cfg)
    exact = torch.autograd.grad(total, list(theta.values()))

    # by hand: first-order part at theta', then the Hessian-vector product at theta
    fo = ms.inner_loop(model, support, grams, cfg, second_order=False)
    params = {**{n: p.detach().requires_grad_() for n, p in theta.items() if n not in fo}, **fo}
    t, _ = ms.bilevel._task_loss(model, params, query, grams, cfg)
    g_q = dict(zip(params, torch.autograd.grad(t, list(params.values()))))
    l_sup, _ = ms.bilevel._task_loss(model, theta, support, grams, cfg)
    g_sup = torch.autograd.grad(l_sup, [theta[n] for n in names], create_graph=True)
    dot = sum((g * g_q[n]).sum() for g, n in zip(g_sup, names))
    hvp = torch.autograd.grad(dot, list(theta.values()), allow_unused=True)
    by_hand = [g_q[n] - d * (h if h is not None else 0) for n, h in zip(theta, hvp)]
    flat = lambda xs: torch.cat([x.flatten() for x in xs])
    first, mine, auto = flat([g_q[n] for n in theta]), flat(by_hand), flat(exact)
    assert torch.allclose(auto, mine, rtol=1e-3, atol=1e-4 * float(auto.abs().max()))
    assert (first - auto).norm() > 10 * (mine - auto).norm()  # the Hessian term is real, not rounding


def test_meta_training_through_the_trainer_lowers_the_adapted_loss(data):
    content, style = data
    cfg = tiny_cfg(lr=3e-3)
    styles = [ms._square(assets.load(n, 64), S) for n in ("the_scream", "great_wave", "brick_texture")]
    r = recipes.meta_train(list(content.split(1)), styles, cfg, steps=4, size=S, progress=False)
    assert len(r.history) == 4 and {"before", "total", "content", "style"} <= set(r.history[0])
    h = r.history
    assert h[-1]["total"] < h[0]["total"]
    assert sum(x["total"] for x in h) < sum(x["before"] for x in h)  # the inner loop helps on the query rows


def test_degenerate_inputs_raise_clear_errors(data, tmp_path):
    content, style = data
    one = tmp_path / "styles"
    one.mkdir()
    stylelab.images.save(style, one / "only.png")
    with pytest.raises(stylelab.ImageError, match="at least 2 style images"):
        recipes.meta_train(list(content.split(1)), one, tiny_cfg(), steps=1, size=S, progress=False)
    with pytest.raises(stylelab.ArgumentError, match="batch_size"):
        recipes.meta_train(list(content.split(1)), [style, style], tiny_cfg(batch_size=1), steps=1, size=S)
    with pytest.raises(stylelab.ArgumentError, match="order"):
        recipes.meta_train(list(content.split(1)), [style, style], tiny_cfg(order="third"), steps=1, size=S)
    with pytest.raises(stylelab.ArgumentError, match="adapt"):
        ms.adapt(style, steps=1, model=ms.build(tiny_cfg()), cfg=tiny_cfg(), params="some")
    with pytest.raises(stylelab.CheckpointError, match="no pretrained metastyle/other"):
        ms.pretrained("other")


def test_the_shipped_start_carries_its_inner_step_and_adapts_with_it():
    if "metastyle/default" not in stylelab.checkpoints.registry():
        pytest.skip("no meta-learned start ships")
    start = ms.pretrained()
    cfg = ms.config_of(start)
    assert cfg.inner_lr == 0.005 and cfg.size == 128      # what it was meta-trained with, not the defaults
    torch.manual_seed(0)
    x = torch.rand(1, 3, 32, 32)
    fast = ms.adapt("the_scream", steps=1, model=start, content=[x], size=32, progress=False)
    moved = max(float((p - q).abs().max()) for p, q in zip(start.parameters(), fast.parameters()))
    # one clipped inner step of size 0.005 and norm <= 10 moves no weight further than 0.05
    assert 0 < moved <= cfg.inner_lr * cfg.inner_clip + 1e-6


def test_adapt_lowers_the_loss_and_norm_mode_touches_only_norm_parameters(data):
    content, style = data
    cfg = tiny_cfg()
    torch.manual_seed(0)
    model = ms.build(cfg)
    fast = ms.adapt(style, steps=4, model=model, cfg=cfg, content=content, eval_content=content,
                    optimizer="adam", progress=False)
    assert len(fast.eval_history) == 5 and fast.eval_history[-1] < fast.eval_history[0]
    norm = ms.adapt(style, steps=2, model=model, cfg=cfg, content=content, params="norm", progress=False)
    names = set(ms.adapted_names(model, "norm"))
    for (n, p), q in zip(model.named_parameters(), norm.parameters()):
        assert torch.equal(p, q) != (n in names), n


def test_meta_adaptation_starts_with_exactly_the_inner_loop_step(data):
    """adapt(optimizer='meta') takes the step meta-training taught the start to take, then Adam."""
    content, style = data
    cfg = tiny_cfg(inner_steps=2)
    torch.manual_seed(0)
    model = ms.build(cfg)
    photo = content[:1]
    fast = ms.adapt(style, steps=2, model=model, cfg=cfg, content=photo, batch_size=1, progress=False)
    inner = ms.inner_loop(model, photo, ms.style_targets(style, cfg), cfg, second_order=False)
    got = dict(fast.named_parameters())
    assert all(torch.allclose(got[n], inner[n], atol=1e-5) for n in inner)
    # a third step is Adam's: it differs from a third inner-loop step
    adam = ms.adapt(style, steps=3, model=model, cfg=cfg, content=photo, batch_size=1, progress=False)
    sgd = ms.adapt(style, steps=3, model=model, cfg=cfg, content=photo, batch_size=1, optimizer="sgd",
                   progress=False)
    assert not all(torch.allclose(p, q, atol=1e-5) for p, q in zip(adam.parameters(), sgd.parameters()))
    with pytest.raises(stylelab.ArgumentError, match="optimizer"):
        ms.adapt(style, steps=1, model=model, cfg=cfg, content=photo, optimizer="lbfgs")


def count_adaptations(monkeypatch) -> list:
    """A list that grows by one on every ``ms.adapt`` call (which still runs)."""
    calls, real = [], ms.adapt
    monkeypatch.setattr(ms, "adapt", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def test_stylize_adapts_once_per_style(data, monkeypatch):
    content, style = data
    cfg = tiny_cfg()
    model = ms.build(cfg)
    calls = count_adaptations(monkeypatch)
    ms.clear_cache()
    y1 = ms.stylize(content[:1], style, model=model, steps=1, cfg=cfg, adapt_content=content, progress=False)
    y2 = ms.stylize(content[1:2], style, model=model, steps=1, cfg=cfg, adapt_content=content, progress=False)
    assert len(calls) == 1 and y1.shape == (1, 3, S, S) and 0 <= float(y2.min()) <= float(y2.max()) <= 1
    ms.stylize(content[:1], "great_wave", model=model, steps=1, cfg=cfg, adapt_content=content, progress=False)
    assert len(calls) == 2


def test_encode_style_adapts_once_and_stylize_reuses_it(data, monkeypatch):
    """``encode_style`` is the adaptation done once; ``stylize`` with its result adapts nothing, and
    ``cache=False`` adapts anew on every call (what the arena times as the uncached figure)."""
    content, style = data
    cfg = tiny_cfg()
    model = ms.build(cfg)
    calls = count_adaptations(monkeypatch)
    code = ms.encode_style(style, model, steps=1, cfg=cfg, adapt_content=content)
    assert len(calls) == 1 and isinstance(code, ms.AdaptedStyle)
    reused = ms.stylize(content[:1], code, model=model)
    assert len(calls) == 1
    fresh = [ms.stylize(content[:1], style, model=model, steps=1, cfg=cfg, adapt_content=content, progress=False,
                        cache=False) for _ in range(2)]
    assert len(calls) == 3
    assert torch.allclose(reused, fresh[0], atol=1e-5) and torch.allclose(fresh[0], fresh[1])
    with pytest.raises(stylelab.ArgumentError, match="histogram"):
        ms.stylize(content[:1], code, model=model, preserve_color="histogram")
