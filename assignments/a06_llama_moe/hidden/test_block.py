"""Hidden tests, task block: the pre-norm Llama block against the reference, whole and in
cached chunks."""

import pytest

from autograder.grade import checks, draw

from . import bugs
from .common import ATOL, RTOL, config, state_of

pytestmark = pytest.mark.task("block")


@pytest.mark.parametrize("chunk", [None, 2])
def test_matches_reference(student, reference, reference_module, gen, chunk):
    cfg = config(gen)
    state = state_of(reference_module.LlamaBlock(reference_module.LlamaConfig(**cfg)), gen)
    x = draw.normal(gen, 2, draw.integer(gen, 4, 9), cfg["d_model"], scale=2.0)
    args = (cfg, state, x, chunk)
    checks.close(student.block_forward(*args), reference.block_forward(cfg, state, x),
                 what="LlamaBlock(x)" + (f" fed {chunk} positions at a time" if chunk else ""), rtol=RTOL, atol=ATOL,
                 diagnoses=bugs.block(reference_module, reference, args))
