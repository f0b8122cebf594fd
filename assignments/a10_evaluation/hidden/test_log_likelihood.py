"""Hidden tests, task log_likelihood: the shift, and log-softmax stability on large logits."""

import pytest
import torch

from autograder.grade import checks, draw

from .common import ATOL, RTOL

pytestmark = pytest.mark.task("log_likelihood")


def unshifted(logits, idx):
    return torch.log_softmax(logits[:, :-1], -1).gather(-1, idx[:, :-1, None]).squeeze(-1)


def test_matches_reference_on_random_logits(student, reference, gen):
    b, t, v = draw.integer(gen, 1, 4), draw.integer(gen, 3, 12), draw.integer(gen, 5, 40)
    logits, idx = draw.normal(gen, b, t, v, scale=3.0), torch.randint(0, v, (b, t), generator=gen)
    checks.close(student.token_logprobs(logits, idx), reference.token_logprobs(logits, idx),
                 what=f"token_logprobs for logits {tuple(logits.shape)}", rtol=RTOL, atol=ATOL,
                 diagnoses=[("the targets are not shifted: logits[:, t] predict idx[:, t + 1]", unshifted(logits, idx))])


def test_large_logits_stay_finite(student, reference, gen):
    """Logits of size ~1000 (a confident model): softmax underflows to 0 for most tokens, so
    log(softmax) gives -inf where log_softmax gives the right, finite value."""
    logits, idx = draw.normal(gen, 2, 8, 30, scale=1000.0), torch.randint(0, 30, (2, 8), generator=gen)
    expected = reference.token_logprobs(logits, idx)
    got = checks.tensor(student.token_logprobs(logits, idx), what="token_logprobs with logits of size ~1000",
                        shape=expected.shape, dtype=expected.dtype, finite=False)
    if not torch.isfinite(got).all():
        checks.fail(f"token_logprobs with logits of size ~1000 gave {int((~torch.isfinite(got)).sum())} non-finite "
                    "values: torch.log(torch.softmax(...)) underflows; use torch.log_softmax")
    checks.close(got, expected, what="token_logprobs with logits of size ~1000", rtol=RTOL, atol=1e-8)
