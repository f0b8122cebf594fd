"""How the tests call your code: they send configurations, weights and ids; these functions
build your objects, run them, and send back data (tensors, numbers, lists).

Given code (do not edit): the public tests on your machine and the grader's hidden tests
both go through these functions. Each takes your module ``m`` first. ``model_config`` is a
dict of ``GPTConfig`` fields; a model's weights travel as a state dict with a04's names
(``wte.weight``, ``h.0.attn.c_attn.weight``, ...), the tied ``lm_head.weight`` left out.
Plain functions of your module (``cross_entropy``, ``lr_at``, ``get_batch``, ...) are called
directly and need no adapter.
"""

import os
import tempfile

import torch

from _harness.adapt import load_state


def _state(model: torch.nn.Module) -> dict:
    """``model``'s weights on the CPU, without the tied head."""
    return {k: v.detach().to("cpu").clone() for k, v in model.state_dict().items() if k != "lm_head.weight"}


def _model(m, model_config: dict, state: dict) -> torch.nn.Module:
    model = load_state(m.GPT(m.GPTConfig(**model_config)), state, may_be_missing=("lm_head.weight",))
    return model.train()


def batch(m, ids: torch.Tensor, batch_size: int, context_length: int, seed: int) -> tuple:
    """Your ``get_batch`` with a generator seeded with ``seed``, on the CPU."""
    return m.get_batch(ids, batch_size, context_length, "cpu", torch.Generator().manual_seed(seed))


def batch_starts(m, ids: torch.Tensor, batch_size: int, context_length: int, draws: int, seed: int) -> torch.Tensor:
    """``x[:, 0]`` of ``draws`` calls of your ``get_batch`` with one seeded generator, ``(draws, B)``:
    on ``ids = arange(n)`` these are the start indices."""
    generator = torch.Generator().manual_seed(seed)
    return torch.stack([m.get_batch(ids, batch_size, context_length, "cpu", generator)[0][:, 0] for _ in range(draws)])


def cross_entropy_grad(m, logits: torch.Tensor, targets: torch.Tensor, ignore_index: int) -> torch.Tensor:
    """The gradient of your ``cross_entropy`` with respect to ``logits`` (autograd)."""
    x = logits.clone().requires_grad_(True)
    m.cross_entropy(x, targets, ignore_index).backward()
    return x.grad


def adamw_run(m, params: list, grads: list, lr: float, betas, eps: float, weight_decay: float,
              lrs: list | None = None) -> list:
    """Your ``AdamW`` over ``len(grads)`` steps: before step ``i`` each parameter's ``.grad``
    is ``grads[i][j]`` (``None`` leaves it without a gradient); with ``lrs``, the group's
    ``lr`` is set to ``lrs[i]`` first. Returns the parameters after every step."""
    params = [torch.nn.Parameter(p.clone()) for p in params]
    opt = m.AdamW(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
    history = []
    for i, step_grads in enumerate(grads):
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else g.clone()
        if lrs is not None:
            for group in opt.param_groups:
                group["lr"] = lrs[i]
        opt.step()
        history.append([p.detach().clone() for p in params])
    return history


def clip_run(m, grads: list, max_norm: float) -> tuple:
    """Your ``clip_grad_norm`` on parameters whose gradients are ``grads`` (``None``: a frozen
    parameter without one). Returns ``(total_norm, clipped gradients)``."""
    params = []
    for g in grads:
        p = torch.nn.Parameter(torch.zeros(g.shape if g is not None else (3,), dtype=torch.float64))
        p.grad = None if g is None else g.clone()
        params.append(p)
    total = m.clip_grad_norm(params, max_norm)
    return total, [None if p.grad is None else p.grad.clone() for p in params]


def trajectory(m, model_config: dict, state: dict, batches: torch.Tensor, lr: float, weight_decay: float,
               max_norm: float | None) -> tuple:
    """Your ``train_step`` on each ``batches[i] = (x, y)`` stacked ``(n, 2, B, T)``, with
    ``torch.optim.AdamW`` (so only your step is under test). Returns ``(losses, final state)``."""
    model = _model(m, model_config, state)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=weight_decay)
    losses = [m.train_step(model, opt, xy[0], xy[1], max_norm) for xy in batches]
    return losses, _state(model)


def evaluate(m, model_config: dict, state: dict, ids: torch.Tensor, batch_size: int, n_batches: int,
             seed: int) -> tuple:
    """Your ``estimate_loss`` with a seeded generator; also whether the model came back in
    training mode and its weights unchanged: ``(loss, training, same_weights)``."""
    model = _model(m, model_config, state)
    loss = m.estimate_loss(model, ids, batch_size, n_batches, "cpu", torch.Generator().manual_seed(seed))
    same = all(torch.equal(v, state[k]) for k, v in _state(model).items())
    return loss, model.training, same


def train_run(m, model_config: dict, train_config: dict, ids: torch.Tensor, seed: int) -> dict:
    """Your ``train``: ``{"state": the trained weights, "curve": your reported curve}``."""
    model, curve = m.train(model_config, train_config, ids, seed)
    return {"state": _state(model), "curve": [dict(point) for point in curve]}


def resume_run(m, model_config: dict, train_config: dict, ids: torch.Tensor, seed: int, stop_after: int) -> dict:
    """One uninterrupted ``train`` and one stopped after ``stop_after`` steps (checkpoint)
    then resumed from it: both final weights and curves."""
    whole, whole_curve = m.train(model_config, train_config, ids, seed)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "checkpoint.pt")
        m.train(model_config, train_config, ids, seed, checkpoint_path=path, stop_after=stop_after)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"train(..., checkpoint_path={path!r}, stop_after={stop_after}) wrote no checkpoint")
        resumed, resumed_curve = m.train(model_config, train_config, ids, seed, resume_from=path)
    return {"whole": _state(whole), "resumed": _state(resumed),
            "whole_curve": [dict(p) for p in whole_curve], "resumed_curve": [dict(p) for p in resumed_curve]}


def accumulated_gradients(m, model_config: dict, state: dict, x: torch.Tensor, y: torch.Tensor,
                          micro_batches: int) -> tuple:
    """Your ``accumulate_gradients`` on a model holding ``state`` and stale gradients:
    ``(loss, {name: grad})``."""
    model = _model(m, model_config, state)
    for p in model.parameters():
        p.grad = torch.ones_like(p)                     # stale: must be cleared first
    loss = m.accumulate_gradients(model, x, y, micro_batches)
    return loss, {k: p.grad.detach().clone() for k, p in model.named_parameters() if p.grad is not None}
