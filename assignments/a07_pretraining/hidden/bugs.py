"""Known mistakes in a07, recomputed on the trusted side so a failure can name them."""

from __future__ import annotations

import math

import torch


def cross_entropy(logits, targets, ignore_index=-100) -> list:
    flat, t = logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)
    keep = t != ignore_index
    safe = t.clamp_min(0)
    per = torch.logsumexp(flat, -1) - flat.gather(-1, safe[:, None]).squeeze(-1)
    naive = torch.log(torch.exp(flat).sum(-1)) - flat.gather(-1, safe[:, None]).squeeze(-1)
    return [("ignored targets are counted in the mean's denominator: divide by the number of kept targets",
             (per * keep).sum() / t.numel()),
            ("the max is not subtracted before exp: large logits overflow", naive[keep].mean()),
            ("the mean is over batches only, not over every kept target", (per * keep).sum() / flat.shape[0]
             if flat.shape[0] != int(keep.sum()) else torch.tensor(float("nan"), dtype=flat.dtype))]


def lr_at(step, max_lr, min_lr, warmup, total) -> list:
    def off_by_one(t):
        if t < warmup:
            return max_lr * (t + 1) / warmup
        if t > total:
            return min_lr
        return min_lr + 0.5 * (1 + math.cos(math.pi * (t - warmup) / (total - warmup))) * (max_lr - min_lr)

    def over_total(t):
        if t < warmup:
            return max_lr * t / warmup
        if t > total:
            return min_lr
        return min_lr + 0.5 * (1 + math.cos(math.pi * t / total)) * (max_lr - min_lr)

    def no_floor(t):
        if t < warmup:
            return max_lr * t / warmup
        return 0.5 * (1 + math.cos(math.pi * min(t - warmup, total - warmup) / (total - warmup))) * max_lr

    return [("warm-up is off by one: step t has max_lr * t / warmup_steps (step 0 has 0)", off_by_one(step)),
            ("the cosine runs over total_steps, not over total_steps - warmup_steps", over_total(step)),
            ("the cosine decays to 0, not to min_lr", no_floor(step))]


def adamw(params, grads, lr, betas, eps, wd, lrs=None) -> list:
    """Parameter histories of AdamW with one known mistake each."""
    def run(kind):
        ps = [p.clone() for p in params]
        m = [torch.zeros_like(p) for p in ps]
        v = [torch.zeros_like(p) for p in ps]
        steps = [0] * len(ps)
        out = []
        b1, b2 = betas
        for i, gs in enumerate(grads):
            a = lrs[i] if lrs is not None else lr
            for j, g in enumerate(gs):
                if g is None:
                    continue
                steps[j] += 1
                t = steps[j]
                if kind == "l2":
                    g = g + wd * ps[j]
                elif kind != "decay_after":
                    ps[j] = ps[j] * (1 - a * wd)
                m[j] = b1 * m[j] + (1 - b1) * g
                v[j] = b2 * v[j] + (1 - b2) * g * g
                mh, vh = (m[j], v[j]) if kind == "no_bias" else (m[j] / (1 - b1 ** t), v[j] / (1 - b2 ** t))
                denom = (vh + eps).sqrt() if kind == "eps_inside" else vh.sqrt() + eps
                ps[j] = ps[j] - a * mh / denom
                if kind == "decay_after":
                    ps[j] = ps[j] * (1 - a * wd)
            out.append(ps[-1].clone())
        return out
    return [("eps is inside the square root: use sqrt(v_hat) + eps", run("eps_inside")),
            ("weight decay is added to the gradient (Adam with L2), not applied to the weights (AdamW)", run("l2")),
            ("weight decay is applied after the Adam update; PyTorch applies it first", run("decay_after")),
            ("no bias correction: divide m and v by 1 - beta^t", run("no_bias"))]


def train_steps(ref) -> list:
    """``(label, train_step)`` with one known mistake each, for ``checks.patched``."""
    step = ref.train_step
    def no_zero_grad(model, optimizer, x, y, max_norm=None):
        loss = ref.cross_entropy(model(x), y)
        loss.backward()
        if max_norm is not None:
            ref.clip_grad_norm(model.parameters(), max_norm)
        optimizer.step()
        return loss.item()

    def clip_after(model, optimizer, x, y, max_norm=None):
        optimizer.zero_grad(set_to_none=True)
        loss = ref.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        if max_norm is not None:
            ref.clip_grad_norm(model.parameters(), max_norm)
        return loss.item()

    def no_clip(model, optimizer, x, y, max_norm=None):
        return step(model, optimizer, x, y, None)

    return [("the gradients are never cleared (zero_grad): each step uses the sum of all gradients so far",
             no_zero_grad),
            ("the gradients are clipped after optimizer.step(): clip between backward() and step()", clip_after),
            ("the gradients are not clipped to max_norm", no_clip)]
