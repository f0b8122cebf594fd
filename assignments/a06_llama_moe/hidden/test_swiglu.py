"""Hidden tests, task swiglu: Llama's hidden size rule on published models and drawn sizes,
and the SwiGLU block against the reference."""

import pytest
import torch

from autograder.grade import checks, draw

from . import bugs
from .common import ATOL, RTOL

pytestmark = pytest.mark.task("swiglu")

PUBLISHED = [((4096, 256, None), 11008, "Llama 2 7B"), ((5120, 256, None), 13824, "Llama 2 13B"),
             ((8192, 4096, 1.3), 28672, "Llama 2 70B"), ((4096, 1024, 1.3), 14336, "Llama 3 8B")]


@pytest.mark.parametrize("args, expected, model", PUBLISHED, ids=[p[2] for p in PUBLISHED])
def test_hidden_dim_of_published_models(student, args, expected, model):
    checks.equal(student.llama_hidden_dim(*args), expected, what=f"llama_hidden_dim{args} ({model})",
                 hint="int(2 * 4d / 3), times ffn_dim_multiplier (truncated) if given, then rounded UP to a "
                      "multiple of multiple_of")


def test_hidden_dim_of_drawn_sizes(student, reference, gen):
    for _ in range(5):
        args = (draw.integer(gen, 8, 3000), draw.choice(gen, [8, 32, 256]), draw.choice(gen, [None, 1.3, 0.7]))
        checks.equal(student.llama_hidden_dim(*args), reference.llama_hidden_dim(*args),
                     what=f"llama_hidden_dim{args}", hint="round up, not down, to a multiple of multiple_of")


def test_swiglu_matches_reference(student, reference, gen):
    d, hidden = draw.integer(gen, 4, 16), draw.integer(gen, 6, 30)
    shapes = {"gate_proj.weight": (hidden, d), "up_proj.weight": (hidden, d), "down_proj.weight": (d, hidden)}
    state = draw.state_like({name: torch.empty(*shape) for name, shape in shapes.items()}, gen)
    x = draw.normal(gen, 2, draw.integer(gen, 2, 6), d, scale=2.0)
    checks.close(student.swiglu_forward(d, hidden, state, x), reference.swiglu_forward(d, hidden, state, x),
                 what=f"SwiGLU({d}, {hidden})", rtol=RTOL, atol=ATOL, diagnoses=bugs.swiglu(x, state))
