"""An outside-style a07 submission: pretraining written the way nanoGPT (karpathy/nanoGPT,
train.py), build-nanogpt and llm.c write it, from the student handout only and adapted only
to the assignment's API (names, signatures, the handout's conventions). Correct, so it must
get full marks in both variants (tests/test_outside.py); it holds the given code of both
release variants and every stub of both (``accumulate_gradients`` and the questions).

What differs from the reference on purpose (it was not read): ``get_batch`` stacks slices as
nanoGPT does; the cross-entropy is a hand-written log-softmax (max detached, as llm.c's
``maxval``) with a gather; AdamW is PyTorch's single-tensor update (``step_size`` and
``denom`` with the bias corrections folded in); the schedule is nanoGPT's ``get_lr`` with
the handout's warm-up; gradient accumulation weights each micro-batch by its share of the
counted targets (so ignored targets keep it exact), and a resumed run replays the
evaluation generator's draws so that its curve is the uninterrupted run's too.
"""

import math

import torch
from gpt import GPT, GPTConfig, init_weights
from torch import nn

IGNORE_INDEX = -100


# %% data
def text_ids(path: str) -> tuple[torch.Tensor, list[str]]:
    """A local text file as character ids ``(N,)`` int64, and the vocabulary (sorted characters)."""
    from datasets import load_dataset

    lines = load_dataset("text", data_files=str(path), split="train", keep_in_memory=True)["text"]
    text = "\n".join(lines)
    vocab = sorted(set(text))
    index = {ch: i for i, ch in enumerate(vocab)}
    return torch.tensor([index[ch] for ch in text], dtype=torch.long), vocab


def split_ids(ids: torch.Tensor, val_fraction: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``(train, val)``: the first ``len(ids) - round(val_fraction * len(ids))`` ids, then the rest."""
    n = len(ids) - round(val_fraction * len(ids))
    return ids[:n], ids[n:]


def get_batch(ids: torch.Tensor, batch_size: int, context_length: int, device: str | torch.device = "cpu",
              generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, y)``, each ``(batch_size, context_length)`` int64 on ``device`` (nanoGPT's get_batch)."""
    starts = torch.randint(len(ids) - context_length, (batch_size,), generator=generator)
    x = torch.stack([ids[i:i + context_length] for i in starts.tolist()]).long()
    y = torch.stack([ids[i + 1:i + 1 + context_length] for i in starts.tolist()]).long()
    return x.to(device), y.to(device)


# %% cross-entropy
def cross_entropy(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int = IGNORE_INDEX) -> torch.Tensor:
    """Mean negative log-likelihood over the targets that are not ``ignore_index``."""
    logits = logits.reshape(-1, logits.size(-1))
    targets = targets.reshape(-1)
    maxval = logits.max(dim=-1, keepdim=True).values.detach()
    shifted = logits - maxval
    log_probs = shifted - shifted.exp().sum(dim=-1, keepdim=True).log()
    keep = targets != ignore_index
    safe = torch.where(keep, targets, torch.zeros_like(targets))
    nll = -log_probs.gather(1, safe.unsqueeze(1)).squeeze(1)
    nll = torch.where(keep, nll, torch.zeros_like(nll))
    return nll.sum() / keep.sum()


# %% AdamW
class AdamW(torch.optim.Optimizer):
    """AdamW as ``torch.optim.AdamW`` (same defaults, same results); state per parameter:
    ``step`` (int), ``m``, ``v`` (tensors like the parameter)."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"], state["m"], state["v"] = 0, torch.zeros_like(p), torch.zeros_like(p)
                grad, m, v = p.grad, state["m"], state["v"]
                state["step"] += 1
                t = state["step"]
                p.mul_(1 - lr * wd)                                   # decoupled weight decay
                m.mul_(beta1).add_(grad, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                bias_correction1 = 1 - beta1 ** t
                bias_correction2 = 1 - beta2 ** t
                step_size = lr / bias_correction1
                denom = (v.sqrt() / math.sqrt(bias_correction2)).add_(eps)
                p.addcdiv_(m, denom, value=-step_size)
        return loss


# %% clipping
def clip_grad_norm(parameters, max_norm: float) -> torch.Tensor:
    """Clip in place; return the total norm *before* clipping (a scalar tensor)."""
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    total_norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    clip_coef = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
    for g in grads:
        g.mul_(clip_coef.to(g.dtype))
    return total_norm


# %% schedule
def lr_at(step: int, max_lr: float, min_lr: float, warmup_steps: int, total_steps: int) -> float:
    """The learning rate of step ``step``: linear warm-up, cosine decay to ``min_lr``, then ``min_lr``."""
    # 1) linear warmup for warmup_steps steps (from 0: step warmup_steps has max_lr)
    if step < warmup_steps:
        return max_lr * step / warmup_steps
    # 2) past the end of the decay, the floor
    if step > total_steps:
        return min_lr
    if total_steps <= warmup_steps:
        return max_lr
    # 3) in between, cosine decay down to min_lr
    decay_ratio = (step - warmup_steps) / (total_steps - warmup_steps)
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
    return min_lr + coeff * (max_lr - min_lr)


# %% training step and evaluation
def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
               max_norm: float | None = None) -> float:
    """One update on the batch ``(x, y)``; clip to ``max_norm`` unless None. Returns the loss (float)."""
    optimizer.zero_grad(set_to_none=True)
    logits = model(x)
    loss = cross_entropy(logits, y)
    loss.backward()
    if max_norm is not None:
        clip_grad_norm(model.parameters(), max_norm)
    optimizer.step()
    return loss.item()


@torch.no_grad()
def estimate_loss(model: nn.Module, ids: torch.Tensor, batch_size: int, n_batches: int,
                  device: str | torch.device = "cpu", generator: torch.Generator | None = None) -> float:
    """Mean loss over ``n_batches`` batches of ``get_batch(ids, batch_size, context_length)``."""
    model.eval()
    losses = []
    for _ in range(n_batches):
        X, Y = get_batch(ids, batch_size, model.config.context_length, device, generator)
        losses.append(cross_entropy(model(X), Y).item())
    model.train()
    return sum(losses) / len(losses)


# %% checkpoints
def save_checkpoint(path: str, model: nn.Module, optimizer: torch.optim.Optimizer, step: int,
                    generator: torch.Generator, curve: list) -> None:
    """Write the model, the optimizer, the next step, the data generator's state and the curve."""
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "step": step,
        "generator": generator.get_state(),
        "curve": [dict(point) for point in curve],
    }
    torch.save(checkpoint, path)


def load_checkpoint(path: str, model: nn.Module, optimizer: torch.optim.Optimizer,
                    generator: torch.Generator) -> tuple[int, list]:
    """Restore ``model``, ``optimizer`` and ``generator`` in place; return ``(step, curve)``."""
    checkpoint = torch.load(path, weights_only=False)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    generator.set_state(checkpoint["generator"])
    return checkpoint["step"], [dict(point) for point in checkpoint["curve"]]


# %% training loop
TRAIN_DEFAULTS = {"steps": 200, "batch_size": 32, "max_lr": 3e-3, "min_lr": 3e-4, "warmup_steps": 20,
                  "weight_decay": 0.1, "betas": (0.9, 0.95), "max_norm": 1.0, "eval_every": 50,
                  "eval_batches": 4, "val_fraction": 0.1, "device": "cpu"}


def build_model(model_config: dict, seed: int) -> GPT:
    """A fresh ``GPT(GPTConfig(**model_config))`` initialized by a04's ``init_weights``
    with a generator seeded with ``seed``."""
    model = GPT(GPTConfig(**model_config))
    init_weights(model, torch.Generator().manual_seed(seed))
    return model


def train(model_config: dict, train_config: dict, ids: torch.Tensor, seed: int, *,
          checkpoint_path: str | None = None, stop_after: int | None = None,
          resume_from: str | None = None) -> tuple[GPT, list[dict]]:
    """Train a GPT on ``ids``; return ``(model, curve)`` (nanoGPT's train.py loop)."""
    cfg = {**TRAIN_DEFAULTS, **train_config}
    device = cfg["device"]
    train_ids, val_ids = split_ids(ids, cfg["val_fraction"])
    model = build_model(model_config, seed).to(device).train()
    optimizer = AdamW(model.parameters(), lr=cfg["max_lr"], betas=tuple(cfg["betas"]),
                      weight_decay=cfg["weight_decay"])
    data_gen = torch.Generator().manual_seed(seed + 1)
    eval_gen = torch.Generator().manual_seed(seed + 2)
    start, curve = 0, []

    max_iters, batch_size = cfg["steps"], cfg["batch_size"]
    block_size = model.config.context_length
    eval_every, eval_batches = cfg["eval_every"], cfg["eval_batches"]

    def is_eval_step(it: int) -> bool:
        return (it + 1) % eval_every == 0 or it == max_iters - 1

    if resume_from is not None:
        start, curve = load_checkpoint(resume_from, model, optimizer, data_gen)
        # the evaluations before the checkpoint drew from eval_gen: draw the same again
        for it in range(start):
            if is_eval_step(it):
                for _ in range(eval_batches):
                    torch.randint(len(val_ids) - block_size, (batch_size,), generator=eval_gen)

    end = max_iters if stop_after is None else min(max_iters, stop_after)
    for it in range(start, end):
        lr = lr_at(it, cfg["max_lr"], cfg["min_lr"], cfg["warmup_steps"], max_iters)
        for param_group in optimizer.param_groups:
            param_group["lr"] = lr
        X, Y = get_batch(train_ids, batch_size, block_size, device, data_gen)
        loss = train_step(model, optimizer, X, Y, cfg["max_norm"])
        if is_eval_step(it):
            val_loss = estimate_loss(model, val_ids, batch_size, eval_batches, device, eval_gen)
            curve.append({"step": it, "train_loss": loss, "val_loss": val_loss})

    if checkpoint_path is not None:
        save_checkpoint(checkpoint_path, model, optimizer, max(start, end), data_gen, curve)
    return model, curve


# %% advanced build (hardmode): gradient accumulation
def accumulate_gradients(model: nn.Module, x: torch.Tensor, y: torch.Tensor, micro_batches: int) -> float:
    """Leave in ``.grad`` the gradient of ``cross_entropy(model(x), y)`` over the whole batch,
    computed ``micro_batches`` rows at a time (``B`` divisible by it). Clears old gradients
    first; returns the full-batch loss (float)."""
    model.zero_grad(set_to_none=True)
    micro = x.size(0) // micro_batches
    total = (y != IGNORE_INDEX).sum().item()
    loss_accum = 0.0
    for k in range(micro_batches):
        xk, yk = x[k * micro:(k + 1) * micro], y[k * micro:(k + 1) * micro]
        counted = (yk != IGNORE_INDEX).sum().item()
        # build-nanogpt divides by grad_accum_steps; weighting by the counted targets is the
        # same when every micro-batch counts as many, and stays exact when they do not
        weight = counted / total if total > 0 else 1.0 / micro_batches
        if counted == 0:
            continue
        loss = cross_entropy(model(xk), yk) * weight
        loss_accum += loss.item()
        loss.backward()
    return loss_accum


# %% questions (standard)
def q1_initial_loss(vocab_size: int) -> float:
    """At GPT-2's initialization the logits are nearly zero. What loss (nats) do you expect
    on the first batch, for a vocabulary of ``vocab_size`` tokens?"""
    return math.log(vocab_size)


def q2_clipping_protects() -> str:
    """What does gradient clipping protect against? Return one letter."""
    return "b"


def q3_band_lower_bound() -> str:
    """A training loss far below the band's lower bound means... Return one letter."""
    return "c"
