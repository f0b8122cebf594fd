"""Hidden tests, task block: the pre-LN block against the reference; a block whose
sublayers write nothing is the identity."""

import pytest
import torch

from autograder.grade import checks, draw

from . import bugs
from .common import ATOL, RTOL, config, gpt_state, sub_state

pytestmark = pytest.mark.task("block")


def test_matches_reference(student, reference, reference_module, gen):
    cfg = config(gen)
    state = sub_state(gpt_state(reference_module, cfg, gen), "h.0.")
    x = draw.normal(gen, 2, 6, cfg["d_model"], scale=2.0)
    checks.close(student.block_forward(cfg, state, x), reference.block_forward(cfg, state, x), what="Block(x)",
                 rtol=RTOL, atol=ATOL, diagnoses=bugs.block(reference_module, reference, (cfg, state, x)))


def test_zero_sublayers_make_the_identity(student, reference_module, gen):
    """With c_proj weights and biases zero, attention and MLP add nothing: a pre-LN block
    returns its input unchanged (a post-LN block would normalize it)."""
    cfg = config(gen)
    state = sub_state(gpt_state(reference_module, cfg, gen), "h.0.")
    for name in ("attn.c_proj.weight", "attn.c_proj.bias", "mlp.c_proj.weight", "mlp.c_proj.bias"):
        state[name] = torch.zeros_like(state[name])
    x = draw.normal(gen, 2, 5, cfg["d_model"], scale=3.0) + 2.0
    out = checks.tensor(student.block_forward(cfg, state, x), what="Block(x)", shape=x.shape, dtype=x.dtype)
    # x + 0 + 0 is exactly x in a pre-LN block (measured: 0); a post-LN block is off by O(1).
    if not torch.allclose(out, x, rtol=0, atol=1e-12):
        checks.fail("with attn.c_proj and mlp.c_proj zeroed, a pre-LN block must return x unchanged, yet yours "
                    f"changes it by up to {(out - x).abs().max().item():.3g}: is a LayerNorm applied to the residual "
                    "sum (post-LN), or is the residual missing?")
