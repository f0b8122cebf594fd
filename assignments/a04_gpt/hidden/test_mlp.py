"""Hidden tests, task mlp: the block against the reference; dropout on its output."""

import pytest
import torch

from autograder.grade import checks, draw

from .common import ATOL, RTOL, config

pytestmark = pytest.mark.task("mlp")


def mlp_state(reference_module, cfg, gen):
    return draw.state_like(reference_module.MLP(reference_module.GPTConfig(**cfg)).state_dict(), gen)


def test_matches_reference(student, reference, reference_module, gen):
    cfg = config(gen)
    state = mlp_state(reference_module, cfg, gen)
    x = draw.normal(gen, 2, 5, cfg["d_model"])
    checks.close(student.mlp_forward(cfg, state, x), reference.mlp_forward(cfg, state, x), what="MLP(x)",
                 rtol=RTOL, atol=ATOL)


def test_dropout_zeroes_the_output_in_training_only(student, reference_module, gen, seed):
    cfg = config(gen, dropout=0.4, d_model=32, n_heads=4)
    state = mlp_state(reference_module, cfg, gen)
    x = draw.normal(gen, 8, 16, cfg["d_model"])
    train = checks.tensor(student.mlp_forward(cfg, state, x, True, seed), what="MLP(x) in training mode", shape=x.shape)
    zero = (train == 0).double().mean().item()
    if abs(zero - 0.4) > 0.05:
        checks.fail(f"with dropout 0.4 in training mode, {zero:.1%} of the MLP's outputs are 0; expected about 40% "
                    "(dropout goes after c_proj, on the block's output)")
    eval_out = student.mlp_forward(cfg, state, x, False, seed)
    kept = train != 0
    # float64: the survivors are x / 0.6 up to rounding (measured: 0); no 1/(1-p) rescaling is 40% off.
    if not torch.allclose(train[kept], eval_out[kept] / 0.6, rtol=1e-8, atol=1e-10):
        checks.fail("surviving outputs must equal the eval-mode output scaled by 1/(1-p)")
