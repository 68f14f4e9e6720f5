"""MetaStyle's bilevel optimisation: the inner loop that adapts a copy of theta to one style, and
the outer (meta) step that moves theta so that this adaptation works (the package's docstring has
the equations). The trainer calls ``train_step`` instead of its default step."""
from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn
from torch.func import functional_call

from ...errors import ArgumentError
from ...losses import PerceptualLoss
from .core import Config, adapted_names, check_config, config_of, objective, resolved_order, style_targets


def _task_loss(model, params: dict, content, grams, cfg, loss: PerceptualLoss | None = None
               ) -> tuple[torch.Tensor, dict]:
    """The style's perceptual loss of the network with ``params`` on ``content``; ``loss``: the same
    loss with its targets already set (the inner loop reuses one for every step)."""
    loss = loss or objective(cfg, grams, content)
    terms = loss.weighted(functional_call(model, params, (content,)))
    return sum(terms.values()), terms


def inner_loop(model: nn.Module, support: torch.Tensor, grams: dict, cfg: Config,
               second_order: bool) -> dict:
    """theta' after ``cfg.inner_steps`` gradient steps on the support batch, as a name -> tensor dict.

    Second order keeps the graph (``create_graph=True``) so the outer gradient flows back through
    the updates to theta; first order detaches each step.
    """
    names = adapted_names(model, cfg.adapt)
    theta = dict(model.named_parameters())
    fast = {n: (theta[n] if second_order else theta[n].detach().clone().requires_grad_()) for n in names}
    loss = objective(cfg, grams, support)
    for _ in range(cfg.inner_steps):
        params = {**theta, **fast}
        total, _ = _task_loss(model, params, support, grams, cfg, loss)
        grads = torch.autograd.grad(total, list(fast.values()), create_graph=second_order)
        norm = torch.sqrt(sum((g * g).sum() for g in grads))
        scale = torch.clamp(cfg.inner_clip / (norm + 1e-12), max=1.0)
        grads = [g * scale for g in grads]
        if second_order:
            fast = {n: p - cfg.inner_lr * g for (n, p), g in zip(fast.items(), grads)}
        else:
            with torch.no_grad():
                fast = {n: (p - cfg.inner_lr * g).requires_grad_() for (n, p), g in zip(fast.items(), grads)}
    return fast


def meta_step(model: nn.Module, tasks, optimizer: torch.optim.Optimizer, cfg: Config) -> dict:
    """One outer update of theta from ``tasks`` = [(style (1,3,H,W), support, query), ...].

    The outer gradient is the mean over tasks of grad_theta L_s(theta_s'; query), exact (second
    order) or with d theta'/d theta = I (first order).
    """
    check_config(cfg)
    if not tasks:
        raise ArgumentError("meta_step got no tasks; give at least one (style, support, query)")
    device = next(model.parameters()).device
    second = resolved_order(cfg, device) == "second"
    theta = OrderedDict((n, p) for n, p in model.named_parameters() if p.requires_grad)
    grads = {n: torch.zeros_like(p) for n, p in theta.items()}
    logs = {"content": 0.0, "style": 0.0, "tv": 0.0, "total": 0.0, "before": 0.0}
    for style, support, query in tasks:
        grams = style_targets(style, cfg)
        on_query = objective(cfg, grams, query)
        with torch.no_grad():
            before, _ = _task_loss(model, dict(theta), query, grams, cfg, on_query)
        fast = inner_loop(model, support, grams, cfg, second)
        params = {**theta, **fast}
        total, terms = _task_loss(model, params, query, grams, cfg, on_query)
        if second:  # fast depends on theta: autograd goes through the inner updates
            g = torch.autograd.grad(total, list(theta.values()), allow_unused=True)
            per = dict(zip(theta, g))
        else:       # first order: the gradient at theta' stands in for the gradient at theta
            keys = list(params)
            g = torch.autograd.grad(total, [params[k] for k in keys], allow_unused=True)
            per = dict(zip(keys, g))
        for n in grads:
            if per.get(n) is not None:
                grads[n] += per[n].detach() / len(tasks)
        for k, v in terms.items():
            logs[k] += float(v.detach()) / len(tasks)
        logs["total"] += float(total.detach()) / len(tasks)
        logs["before"] += float(before) / len(tasks)
    if not all(torch.isfinite(g).all() for g in grads.values()):
        raise ArgumentError("the meta-gradient became non-finite; lower inner_lr or lr")
    optimizer.zero_grad(set_to_none=True)
    for n, p in theta.items():
        p.grad = grads[n]
    torch.nn.utils.clip_grad_norm_(list(theta.values()), cfg.clip)
    optimizer.step()
    return logs


def tasks_from_batch(batch: dict) -> list:
    """Split a trainer batch into meta-learning tasks: one per distinct style in ``style_index``;
    the content rows are split into a support half and a query half, shared by all tasks."""
    content, style, index = batch["content"], batch["style"], batch["style_index"]
    if content.shape[0] < 2:
        raise ArgumentError(f"a meta step needs at least 2 content rows (support + query), got "
                            f"{content.shape[0]}; use batch_size >= 2")
    half = content.shape[0] // 2
    support, query = content[:half], content[half:]
    tasks, seen = [], set()
    for row, i in enumerate(index.tolist()):
        if i not in seen:
            seen.add(i)
            tasks.append((style[row:row + 1], support, query))
    return tasks


def train_step(model: nn.Module, batch: dict, optimizer: torch.optim.Optimizer, step: int) -> dict:
    """The trainer's hook: one bilevel (meta) step on a batch. ``stylelab.train.train("metastyle", ...)``
    calls this instead of its default step. Its settings are the network's own, ``model.cfg``
    (``train metastyle --set tasks=2`` and ``recipes.meta_train(cfg=...)`` set them)."""
    cfg = config_of(model)
    return meta_step(model, tasks_from_batch(batch)[:max(1, cfg.tasks)], optimizer, cfg)


