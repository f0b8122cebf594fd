"""Known mistakes in a03, recomputed on the trusted side from the reference's pieces.

Each function returns ``[(label, output), ...]``: what a submission with that mistake
would return on the same inputs. When a student's output matches one, the failure message
names the mistake (``checks.close(..., diagnoses=...)``).
"""

from __future__ import annotations

import math

import torch

from autograder.grade.checks import patched

NEG = float("-inf")


def weights(ref, q, k, mask) -> list:
    d = q.shape[-1]
    raw = q @ k.transpose(-2, -1)

    def masked(s, fill=NEG):
        return s if mask is None else s.masked_fill(~mask, fill)

    out = [("the scores are not scaled by 1/sqrt(D)", ref.softmax(masked(raw))),
           ("the scores are divided by D instead of sqrt(D)", ref.softmax(masked(raw / d))),
           ("the softmax runs over the queries (dim -2) instead of the keys (dim -1)",
            ref.softmax(masked(raw / math.sqrt(d)), dim=-2))]
    if mask is not None:
        scaled = raw / math.sqrt(d)
        out += [("the mask is inverted: True means 'may attend'", ref.softmax(scaled.masked_fill(mask, NEG))),
                ("masked scores are set to 0 instead of -inf", ref.softmax(masked(scaled, 0.0))),
                ("the mask is applied after the softmax, so the weights no longer sum to 1",
                 ref.softmax(scaled) * mask)]
    return out


def outputs(ref, q, k, v, mask) -> list:
    return [(label, w @ v) for label, w in weights(ref, q, k, mask)]


def softmax(x, dim) -> list:
    return [("the `dim` argument is ignored (softmax always over the last dimension)", torch.softmax(x, -1)),
            ("exp is not normalised by the sum along `dim`", torch.exp(x - x.amax(dim, keepdim=True)))]


def causal(t_q: int, t_k: int) -> list:
    i = torch.arange(t_q).unsqueeze(1)
    j = torch.arange(t_k).unsqueeze(0)
    off = t_k - t_q
    return [("off by one: query i may also see key i+1", j <= i + off + 1),
            ("strictly lower triangular: a query must see its own position", j < i + off),
            ("the offset t_k - t_q is missing: the queries are the *last* t_q positions", j <= i),
            ("the mask is inverted: True means 'may attend'", j > i + off)]


def split_heads(x: torch.Tensor, n_heads: int) -> list:
    b, t, d = x.shape
    return [("heads split in the wrong order: view(B, H, T, D) instead of view(B, T, H, D).transpose(1, 2)",
             x.reshape(b, n_heads, t, d // n_heads))]


def merge_heads(x: torch.Tensor) -> list:
    b, h, t, d = x.shape
    return [("heads merged without transposing back: reshape (B, H, T, D) directly to (B, T, H*D)",
             x.reshape(b, t, h * d))]


def repeat_kv(x: torch.Tensor, n_rep: int) -> list:
    return [("heads tiled as [a, b, a, b] instead of repeated as [a, a, b, b]", x.repeat(1, n_rep, 1, 1))]


def mha(ref, reference, state, d_model, n_heads, x, mask) -> list:
    """Whole-layer outputs of mistakes inside multi-head attention."""
    out = []

    def bad_split(y, h):
        return split_heads(y, h)[0][1]

    def bad_merge(y):
        return merge_heads(y)[0][1]

    for label, fn in (("heads split in the wrong order (view(B, H, T, D))", {"split_heads": bad_split}),
                      ("heads merged without transposing back", {"merge_heads": bad_merge})):
        with patched(ref, **fn):
            out.append((label, reference.mha_forward(state, d_model, n_heads, x, mask)))
    without_out_proj = dict(state)
    without_out_proj["out_proj.weight"] = torch.eye(d_model, dtype=x.dtype)
    without_out_proj["out_proj.bias"] = torch.zeros(d_model, dtype=x.dtype)
    out.append(("the output projection out_proj is not applied",
                reference.mha_forward(without_out_proj, d_model, n_heads, x, mask)))
    return out
