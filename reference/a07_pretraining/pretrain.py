"""Assignment a07_pretraining: train a GPT from scratch.

You will write everything between a model and a trained model: batches of token windows,
a numerically stable cross-entropy, AdamW by hand, gradient clipping, a warm-up + cosine
learning-rate schedule, the training step, a training loop with periodic evaluation, and
checkpoints that resume a run exactly.

Conventions used everywhere in this file:

- Token ids are 1-D int64 tensors; a batch is ``(x, y)``, both ``(B, T)`` int64, with
  ``y[b, t] == ids[s_b + t + 1]`` when ``x[b, t] == ids[s_b + t]``: targets are the inputs
  shifted by one.
- Targets equal to ``IGNORE_INDEX`` (-100, as in PyTorch and Hugging Face; minGPT uses -1)
  contribute nothing to a loss, and the mean is over the other targets.
- Losses are in nats (natural log). Steps count from 0: step ``s`` is the ``s + 1``-th
  optimizer update.
- Configurations are plain dicts (the tests send them): ``model_config`` holds
  ``GPTConfig`` fields, ``train_config`` the keys of ``TRAIN_DEFAULTS``.

Uses your a04 GPT (``gpt.py``, with a03's ``attention.py``; the given ones are the
solutions). Leaves out: tokenization (a01; the data here are ids), distributed training.

References: CS336 assignment 1 (Stanford, 2025) §4; nanoGPT train.py; Loshchilov & Hutter,
"Decoupled Weight Decay Regularization" (2019).
"""

# %% [markdown]
# # a07 · Pretraining a GPT
#
# A language model learns by predicting the next token: feed it a window of ids, score its
# predicted distribution at every position against the id that actually follows, and step
# the weights downhill. This notebook builds that loop piece by piece and then trains a04's
# GPT on a source whose best possible loss is known exactly, so you can see how close to
# perfect your model gets.
#
# **How to work.** Complete every `YOUR CODE HERE` (in this notebook or in `pretrain.py`;
# submit the one you worked in). `gpt.py` and `attention.py` beside it are a04's and a03's
# solutions; use them or replace them with your own. Run the public tests with `pytest -q`.

# %%
import math

import torch
from gpt import GPT, GPTConfig, init_weights
from torch import nn

IGNORE_INDEX = -100

# %% [markdown]
# ## 1. Data
#
# A corpus becomes one long 1-D tensor of ids. The first `1 - val_fraction` of it trains,
# the rest measures. A batch takes `B` random windows of `T + 1` consecutive ids: the first
# `T` are the input, the last `T` the targets. Every start `s` in `0 .. len(ids) - T - 1`
# must be equally likely (`torch.randint` with the generator you are given), and the batch
# goes to `device`.
#
# `text_ids` shows how a text corpus becomes ids with Hugging Face `datasets` (one
# character, one id). Online, `load_dataset("karpathy/tiny_shakespeare")` gives the same
# kind of corpus from the hub; the tests use generated ids instead.


# %%
def text_ids(path: str) -> tuple[torch.Tensor, list[str]]:
    """A local text file as character ids ``(N,)`` int64, and the vocabulary (sorted characters)."""
    from datasets import load_dataset

    lines = load_dataset("text", data_files=str(path), split="train", keep_in_memory=True)["text"]
    text = "\n".join(lines)
    vocab = sorted(set(text))
    index = {ch: i for i, ch in enumerate(vocab)}
    return torch.tensor([index[ch] for ch in text], dtype=torch.long), vocab


# %% task=data
def split_ids(ids: torch.Tensor, val_fraction: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``(train, val)``: the first ``len(ids) - round(val_fraction * len(ids))`` ids, then the rest."""
    ### BEGIN SOLUTION
    n_val = round(val_fraction * len(ids))
    return ids[:len(ids) - n_val], ids[len(ids) - n_val:]
    ### END SOLUTION


def get_batch(ids: torch.Tensor, batch_size: int, context_length: int, device: str | torch.device = "cpu",
              generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, y)``, each ``(batch_size, context_length)`` int64 on ``device``.

    Draws ``starts = torch.randint(len(ids) - context_length, (batch_size,), generator=generator)``
    (so every start in ``0 .. len(ids) - context_length - 1`` is equally likely) and returns
    ``x[b] = ids[s_b : s_b + T]``, ``y[b] = ids[s_b + 1 : s_b + T + 1]``.

    Example:
        >>> x, y = get_batch(torch.arange(10), 2, 3, generator=torch.Generator().manual_seed(0))
        >>> bool((y == x + 1).all()), tuple(x.shape)
        (True, (2, 3))
    """
    ### BEGIN SCAFFOLD
    starts = torch.randint(len(ids) - context_length, (batch_size,), generator=generator)
    ### END SCAFFOLD
    ### BEGIN SOLUTION
    offsets = torch.arange(context_length)
    x = ids[starts[:, None] + offsets]
    y = ids[starts[:, None] + offsets + 1]
    return x.to(device), y.to(device)
    ### END SOLUTION


# %% [markdown]
# ## 2. Cross-entropy
#
# For logits $z \in \mathbb R^V$ and target $y$, the loss is
# $-\log \mathrm{softmax}(z)_y = \log\sum_j e^{z_j} - z_y$. Computing $e^{z_j}$ directly
# overflows for large logits; subtract $m = \max_j z_j$ first:
# $\log\sum_j e^{z_j} = m + \log\sum_j e^{z_j - m}$. Average over the targets that are not
# `IGNORE_INDEX` (padding, prompts in fine-tuning). Do not call `F.cross_entropy` or
# `torch.logsumexp` here.


# %% task=cross_entropy
def cross_entropy(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int = IGNORE_INDEX) -> torch.Tensor:
    """Mean negative log-likelihood, a scalar tensor.

    Args:
        logits: ``(..., V)`` float.
        targets: ``(...)`` int64 in ``[0, V)`` or equal to ``ignore_index``.

    Example:
        >>> round(cross_entropy(torch.zeros(2, 4), torch.tensor([1, -100])).item(), 4)   # ln 4
        1.3863
    """
    ### BEGIN SOLUTION
    logits = logits.reshape(-1, logits.shape[-1])
    targets = targets.reshape(-1)
    keep = targets != ignore_index
    logits, targets = logits[keep], targets[keep]
    m = logits.max(dim=-1, keepdim=True).values
    log_norm = m.squeeze(-1) + torch.log(torch.exp(logits - m).sum(dim=-1))
    picked = logits.gather(-1, targets[:, None]).squeeze(-1)
    return (log_norm - picked).mean()
    ### END SOLUTION


# %% [markdown]
# ## 3. AdamW
#
# Adam keeps, per parameter, running means of the gradient $g$ and of its square; AdamW
# (Loshchilov & Hutter) applies weight decay to the weights directly instead of adding it
# to the gradient. At step $t = 1, 2, \dots$ (the update order matters; it is PyTorch's):
#
# 1. $\theta \leftarrow \theta - \alpha \lambda \theta$ (decoupled decay, before the update)
# 2. $m \leftarrow \beta_1 m + (1-\beta_1) g$, $\quad v \leftarrow \beta_2 v + (1-\beta_2) g^2$
# 3. $\hat m = m / (1 - \beta_1^t)$, $\quad \hat v = v / (1 - \beta_2^t)$ (bias correction)
# 4. $\theta \leftarrow \theta - \alpha\, \hat m / (\sqrt{\hat v} + \epsilon)$ ($\epsilon$ **outside** the root)
#
# $\alpha$ is the group's current `lr`, so a schedule can change it between steps.
# Parameters whose `.grad` is None are skipped.


# %% task=adamw
class AdamW(torch.optim.Optimizer):
    """AdamW as ``torch.optim.AdamW`` (same defaults, same results); state per parameter:
    ``step`` (int), ``m``, ``v`` (tensors like the parameter)."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):
        ### BEGIN SCAFFOLD
        for group in self.param_groups:
            lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"], state["m"], state["v"] = 0, torch.zeros_like(p), torch.zeros_like(p)
        ### END SCAFFOLD
                ### BEGIN SOLUTION
                g = p.grad
                state["step"] += 1
                t = state["step"]
                p.mul_(1 - lr * wd)
                state["m"].mul_(beta1).add_(g, alpha=1 - beta1)
                state["v"].mul_(beta2).addcmul_(g, g, value=1 - beta2)
                m_hat = state["m"] / (1 - beta1 ** t)
                v_hat = state["v"] / (1 - beta2 ** t)
                p.sub_(lr * m_hat / (v_hat.sqrt() + eps))
                ### END SOLUTION


# %% [markdown]
# ## 4. Gradient clipping
#
# One unlucky batch can produce a huge gradient and throw the weights far off. Clipping
# rescales *all* gradients together when their global L2 norm
# $\|g\| = \sqrt{\sum_p \|g_p\|^2}$ exceeds `max_norm`: multiply each by
# $\min(1, \text{max\_norm} / (\|g\| + 10^{-6}))$ (PyTorch's `clip_grad_norm_`). The
# direction is kept; only the length shrinks. Parameters without a gradient are skipped.


# %% task=clipping
def clip_grad_norm(parameters, max_norm: float) -> torch.Tensor:
    """Clip in place; return the total norm *before* clipping (a scalar tensor)."""
    ### BEGIN SOLUTION
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    total = torch.sqrt(sum((g.detach() ** 2).sum() for g in grads))
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef)
    return total
    ### END SOLUTION


# %% [markdown]
# ## 5. The learning-rate schedule
#
# Linear warm-up for `warmup_steps` steps, then a half cosine down to `min_lr` at step
# `total_steps`, and `min_lr` after that. For step $t$ (counting from 0), $T_w$ =
# `warmup_steps`, $T_c$ = `total_steps`:
#
# $$\alpha_t = \begin{cases} \alpha_{\max}\, t / T_w & t < T_w \\
# \alpha_{\min} + \tfrac12\left(1 + \cos\!\left(\pi\, \frac{t - T_w}{T_c - T_w}\right)\right)(\alpha_{\max} - \alpha_{\min}) & T_w \le t \le T_c \\
# \alpha_{\min} & t > T_c \end{cases}$$
#
# So step 0 has learning rate 0, warm-up ends at step $T_w$ with exactly $\alpha_{\max}$
# (CS336's convention), and the floor $\alpha_{\min}$ is reached at $T_c$.


# %% task=schedule
def lr_at(step: int, max_lr: float, min_lr: float, warmup_steps: int, total_steps: int) -> float:
    """The learning rate of step ``step`` (formula above), a float.

    Example:
        >>> [round(lr_at(t, 1.0, 0.1, 2, 6), 4) for t in range(8)]
        [0.0, 0.5, 1.0, 0.8682, 0.55, 0.2318, 0.1, 0.1]
    """
    ### BEGIN SOLUTION
    if step < warmup_steps:
        return max_lr * step / warmup_steps
    if step > total_steps:
        return min_lr
    progress = (step - warmup_steps) / max(total_steps - warmup_steps, 1)
    return min_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (max_lr - min_lr)
    ### END SOLUTION


# %% [markdown]
# ## 6. One training step, and evaluation
#
# The order inside a step: clear the old gradients, forward, loss, backward, clip, update.
# (Forgetting to clear makes every step use the sum of all gradients so far; clipping after
# the update clips nothing that matters.) Evaluation averages the loss over a few batches
# with gradients off and the model in eval mode, and puts it back in training mode.


# %% task=training
def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
               max_norm: float | None = None) -> float:
    """One update on the batch ``(x, y)``; clip to ``max_norm`` unless None. Returns the loss (float)."""
    ### BEGIN SOLUTION
    optimizer.zero_grad(set_to_none=True)
    loss = cross_entropy(model(x), y)
    loss.backward()
    if max_norm is not None:
        clip_grad_norm(model.parameters(), max_norm)
    optimizer.step()
    return loss.item()
    ### END SOLUTION


@torch.no_grad()
def estimate_loss(model: nn.Module, ids: torch.Tensor, batch_size: int, n_batches: int,
                  device: str | torch.device = "cpu", generator: torch.Generator | None = None) -> float:
    """Mean loss over ``n_batches`` batches of ``get_batch(ids, batch_size, context_length)``."""
    ### BEGIN SOLUTION
    was_training = model.training
    model.eval()
    t = model.config.context_length
    losses = [cross_entropy(model(x), y).item()
              for x, y in (get_batch(ids, batch_size, t, device, generator) for _ in range(n_batches))]
    model.train(was_training)
    return sum(losses) / len(losses)
    ### END SOLUTION


# %% [markdown]
# ## 7. The training loop, checkpoints and exact resume
#
# `train` builds the model (a04's `init_weights`, drawn from a generator seeded with
# `seed`), the optimizer and the data generator, then runs `steps` steps: set each step's
# learning rate from `lr_at`, take a batch, `train_step`, and every `eval_every` steps
# (and after the last) record the training and validation loss.
#
# A checkpoint holds everything the rest of the run depends on: the model's and the
# optimizer's state dicts, the next step, the data generator's state (it decides every
# future batch) and the curve so far. Resuming from it must give **bitwise** the weights of
# the uninterrupted run. Save with `torch.save`; load with `torch.load(path, weights_only=False)`.

# %% task=checkpoint
def save_checkpoint(path: str, model: nn.Module, optimizer: torch.optim.Optimizer, step: int,
                    generator: torch.Generator, curve: list) -> None:
    """Write the checkpoint described above to ``path``."""
    ### BEGIN SOLUTION
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                "generator": generator.get_state(), "curve": curve}, path)
    ### END SOLUTION


def load_checkpoint(path: str, model: nn.Module, optimizer: torch.optim.Optimizer,
                    generator: torch.Generator) -> tuple[int, list]:
    """Restore ``model``, ``optimizer`` and ``generator`` in place; return ``(step, curve)``."""
    ### BEGIN SOLUTION
    ckpt = torch.load(path, weights_only=False)
    model.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    generator.set_state(ckpt["generator"])
    return ckpt["step"], ckpt["curve"]
    ### END SOLUTION


# %% task=training
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
    """Train a GPT on ``ids``; return ``(model, curve)``.

    ``train_config`` overrides ``TRAIN_DEFAULTS``. ``curve`` is a list of
    ``{"step": s, "train_loss": ..., "val_loss": ...}`` after steps ``s`` where
    ``(s + 1) % eval_every == 0`` and after the last step: ``train_loss`` is that step's
    batch loss, ``val_loss`` ``estimate_loss`` on the validation split (``val_fraction``).
    Batches come from a ``torch.Generator`` seeded with ``seed + 1``.

    With ``stop_after = k``, stop after ``k`` steps and save a checkpoint to
    ``checkpoint_path``; with ``resume_from``, load that checkpoint and continue. Both paths
    end with the same weights as one uninterrupted run.
    """
    cfg = {**TRAIN_DEFAULTS, **train_config}
    device = cfg["device"]
    train_ids, val_ids = split_ids(ids, cfg["val_fraction"])
    ### BEGIN SCAFFOLD
    model = build_model(model_config, seed).to(device).train()
    optimizer = AdamW(model.parameters(), lr=cfg["max_lr"], betas=tuple(cfg["betas"]),
                      weight_decay=cfg["weight_decay"])
    data_gen = torch.Generator().manual_seed(seed + 1)
    eval_gen = torch.Generator().manual_seed(seed + 2)
    start, curve = 0, []
    ### END SCAFFOLD
    ### BEGIN SOLUTION
    if resume_from is not None:
        start, curve = load_checkpoint(resume_from, model, optimizer, data_gen)
    end = cfg["steps"] if stop_after is None else min(stop_after, cfg["steps"])
    t = model.config.context_length
    for step in range(start, end):
        lr = lr_at(step, cfg["max_lr"], cfg["min_lr"], cfg["warmup_steps"], cfg["steps"])
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = get_batch(train_ids, cfg["batch_size"], t, device, data_gen)
        loss = train_step(model, optimizer, x, y, cfg["max_norm"])
        if (step + 1) % cfg["eval_every"] == 0 or step + 1 == cfg["steps"]:
            val = estimate_loss(model, val_ids, cfg["batch_size"], cfg["eval_batches"], device, eval_gen)
            curve.append({"step": step, "train_loss": loss, "val_loss": val})
    if stop_after is not None and checkpoint_path is not None:
        save_checkpoint(checkpoint_path, model, optimizer, end, data_gen, curve)
    return model, curve
    ### END SOLUTION


### BEGIN HARDMODE
# %% [markdown]
# ## 8. Advanced build: gradient accumulation
#
# When a batch does not fit in memory, split it into `micro_batches` equal parts, run
# forward and backward on each, and step once. The gradients add up across backward
# calls, so each micro-batch's loss must be divided by `micro_batches`: then the summed
# gradient equals the full batch's (a mean over all its targets).

# %% task=grad_accumulation
def accumulate_gradients(model: nn.Module, x: torch.Tensor, y: torch.Tensor, micro_batches: int) -> float:
    """Leave in ``.grad`` the gradient of ``cross_entropy(model(x), y)`` over the whole batch,
    computed ``micro_batches`` rows at a time (``B`` divisible by it). Clears old gradients
    first; returns the full-batch loss (float)."""
    ### BEGIN SOLUTION
    model.zero_grad(set_to_none=True)
    total = 0.0
    for xs, ys in zip(x.chunk(micro_batches), y.chunk(micro_batches)):
        loss = cross_entropy(model(xs), ys) / micro_batches
        loss.backward()
        total += loss.item()
    return total
    ### END SOLUTION
### END HARDMODE


### BEGIN STANDARD
# %% [markdown]
# ## 9. Questions
#
# Answer by returning a value (only the value is checked).

# %% task=questions
def q1_initial_loss(vocab_size: int) -> float:
    """At GPT-2's initialization the logits are nearly zero. What loss (nats) do you expect
    on the first batch, for a vocabulary of ``vocab_size`` tokens?"""
    ### BEGIN SOLUTION
    return math.log(vocab_size)
    ### END SOLUTION


def q2_clipping_protects() -> str:
    """What does gradient clipping protect against? Return one letter.

    (a) overfitting; (b) a single huge gradient throwing the weights far off;
    (c) vanishing gradients; (d) a learning rate that is too small."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


def q3_band_lower_bound() -> str:
    """The grader's loss band has a lower bound a little below the source's entropy rate.
    A training loss far below that bound means... Return one letter.

    (a) an excellent model; (b) too many training steps; (c) the model sees the tokens it
    must predict (e.g. a missing causal mask); (d) the learning rate is too high."""
    ### BEGIN SOLUTION
    return "c"
    ### END SOLUTION
### END STANDARD

