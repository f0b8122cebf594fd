"""The threshold tests' data: a second-order Markov source whose entropy rate is exact.

Token ``x_t`` depends on the two before it through a table ``P[a, b] = p(x_t | x_{t-2}=a,
x_{t-1}=b)`` whose rows are drawn from a sparse Dirichlet(alpha). The best possible loss of
any model is the entropy rate ``H2 = sum_ab pi(a, b) H(P[a, b])`` (``pi`` the stationary law
of the pair chain), reached by a model that attends to the previous two tokens. A model
that sees only the current token (bigram) cannot do better than ``H1 = H(x_t | x_{t-1})``
under the same stationary law, which the sparse rows put well above ``H2``; an untrained
model scores ``ln V``. Everything here runs on the trusted side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Source:
    table: torch.Tensor          # (V, V, V) float64, rows sum to 1
    pairs: torch.Tensor          # (V, V) stationary law of (x_{t-1}, x_t)

    @property
    def vocab_size(self) -> int:
        return self.table.shape[0]

    @property
    def entropy_rate(self) -> float:
        """H2 in nats: the loss of the true model, the floor for every causal model."""
        row_h = -(self.table * self.table.clamp_min(1e-300).log()).sum(-1)
        return float((self.pairs * row_h).sum())

    @property
    def bigram_entropy(self) -> float:
        """H1 = H(x_t | x_{t-1}): the best loss of a model that sees only the current token."""
        joint = (self.pairs[:, :, None] * self.table).sum(0)          # (b, c)
        cond = joint / joint.sum(-1, keepdim=True)
        return float(-(joint * cond.clamp_min(1e-300).log()).sum())


def make_source(vocab_size: int, alpha: float, gen: torch.Generator) -> Source:
    """A random table with Dirichlet(alpha) rows and its stationary pair law."""
    v = vocab_size
    gamma = torch._standard_gamma(torch.full((v, v, v), alpha, dtype=torch.float64), generator=gen)
    table = gamma / gamma.sum(-1, keepdim=True)
    table = (table + 1e-3 / v) / (1 + 1e-3)          # every transition possible: the chain is ergodic
    # pair chain: (a, b) -> (b, c) with probability table[a, b, c]
    pi = torch.full((v, v), 1.0 / (v * v), dtype=torch.float64)
    for _ in range(10_000):
        nxt = (pi[:, :, None] * table).sum(0)       # (b, c)
        if float((nxt - pi).abs().sum()) < 1e-13:
            break
        pi = nxt
    return Source(table, nxt)


def sample_ids(source: Source, n: int, gen: torch.Generator) -> torch.Tensor:
    """``n`` ids from the chain, vectorised over 64 independent stationary streams joined end to end
    (each join costs one transition that is not the chain's: negligible against ``n``)."""
    v, streams = source.vocab_size, 64
    length = math.ceil(n / streams)
    flat = source.table.reshape(v * v, v)
    cdf = flat.cumsum(-1)
    cdf[:, -1] = 1.0
    starts = torch.multinomial(source.pairs.reshape(-1), streams, replacement=True, generator=gen)
    a, b = starts // v, starts % v
    uniforms = torch.rand(length, streams, generator=gen, dtype=torch.float64)
    out = torch.empty(length, streams, dtype=torch.long)
    for i in range(length):
        rows = cdf[a * v + b]                                        # (streams, V)
        c = torch.searchsorted(rows, uniforms[i][:, None]).squeeze(-1).clamp_max(v - 1)
        out[i] = c
        a, b = b, c
    return out.t().reshape(-1)[:n]
