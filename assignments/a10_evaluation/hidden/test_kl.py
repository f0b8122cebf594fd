"""Hidden tests, task kl: token-level KL(P || Q) against the reference and closed forms (the
direction), its properties, large logits, the mean over positions (batchmean, not 'mean';
the mask), and two GPTs, a base and a perturbed ("fine-tuned") copy."""

import math

import pytest
import torch

from autograder.grade import checks, draw

from .common import ATOL, RTOL, config, gpt_state, tokens

pytestmark = pytest.mark.task("kl")


def kl(p_logits, q_logits):
    logp, logq = torch.log_softmax(p_logits, -1), torch.log_softmax(q_logits, -1)
    return (logp.exp() * (logp - logq)).sum(-1)


def test_token_kl_matches_reference(student, reference, gen):
    p, q = draw.normal(gen, 3, 5, 17, scale=2.0), draw.normal(gen, 3, 5, 17, scale=2.0)
    checks.close(student.kl_divergence(p, q), reference.kl_divergence(p, q), what="kl_divergence(logits_p, logits_q)",
                 rtol=RTOL, atol=ATOL, diagnoses=[(("the direction is swapped: this is KL(Q || P); kl_divergence(p, q) "
                                                   "is sum_v p_v (log p_v - log q_v)"), kl(q, p))])


def test_properties_and_direction_against_a_known_distribution(student, gen):
    """P uniform over V: KL(P || Q) = -log V - mean(log q); KL(Q || P) = sum q log q + log V."""
    v = draw.integer(gen, 5, 30)
    q = draw.normal(gen, 4, v, scale=2.5)
    uniform = torch.zeros(4, v, dtype=torch.float64)
    logq = torch.log_softmax(q, -1)
    forward, reverse = -math.log(v) - logq.mean(-1), (logq.exp() * logq).sum(-1) + math.log(v)
    got = checks.tensor(student.kl_divergence(uniform, q), what="kl_divergence(uniform, q)", shape=(4,))
    same = checks.tensor(student.kl_divergence(q, q), what="kl_divergence(q, q)", shape=(4,))
    if (got < 0).any() or (same.abs() > 1e-12).any():
        checks.fail(f"KL must be >= 0 and 0 for identical distributions; got {got.tolist()} and, for q against itself, "
                    f"{same.tolist()}")
    if not torch.allclose(got, forward, rtol=RTOL, atol=ATOL):
        swapped = torch.allclose(got, reverse, rtol=RTOL, atol=ATOL)
        checks.fail(f"KL(uniform || Q) over V = {v} should be -log V - mean(log q) = {forward.tolist()}; got {got.tolist()}"
                    + (": the direction is swapped (that is KL(Q || uniform))" if swapped else ""))


def test_large_logits_stay_finite(student, reference, gen):
    p, q = draw.normal(gen, 2, 6, 25, scale=500.0), draw.normal(gen, 2, 6, 25, scale=500.0)
    expected = reference.kl_divergence(p, q)
    got = checks.tensor(student.kl_divergence(p, q), what="kl_divergence with logits of size ~500", shape=expected.shape,
                        finite=False)
    if not torch.isfinite(got).all():
        checks.fail("kl_divergence with logits of size ~500 gave NaN or inf: the softmax underflows to 0 and its log is "
                    "-inf (0 * -inf = NaN); compute log p and log q with log_softmax and stay in log space")
    checks.close(got, expected, what="kl_divergence with logits of size ~500", rtol=1e-8, atol=1e-6)


def test_mean_kl_is_batchmean(student, reference, gen):
    b, t, v = draw.integer(gen, 2, 3), draw.integer(gen, 3, 6), draw.integer(gen, 8, 20)
    p, q = draw.normal(gen, b, t, v, scale=2.0), draw.normal(gen, b, t, v, scale=2.0)
    expected = reference.mean_kl(p, q)
    checks.close(student.mean_kl(p, q), expected, what="mean_kl(logits_p, logits_q)", rtol=RTOL, atol=ATOL,
                 diagnoses=[((f"this is F.kl_div's reduction='mean', which divides by positions x V = {b * t} x {v}: "
                             "use the mean over positions (reduction='batchmean')"), expected / v),
                            ("the direction is swapped (KL(Q || P))", kl(q, p).mean())])


def test_mean_kl_with_a_mask(student, reference, gen):
    p, q = draw.normal(gen, 3, 7, 11, scale=2.0), draw.normal(gen, 3, 7, 11, scale=2.0)
    mask = torch.ones(3, 7, dtype=torch.bool)
    for row, n in enumerate((7, draw.integer(gen, 2, 5), draw.integer(gen, 1, 4))):
        mask[row, n:] = False
    per_position = kl(p, q)
    checks.close(student.mean_kl(p, q, mask), reference.mean_kl(p, q, mask), what="mean_kl with a padding mask",
                 rtol=RTOL, atol=ATOL,
                 diagnoses=[("the masked positions are averaged in: take the mean over the True positions only",
                             (per_position * mask).mean()), ("the mask is ignored", per_position.mean())])


def test_fine_tuned_model_against_its_base(student, reference, reference_module, gen):
    cfg = config(gen)
    base = gpt_state(reference_module, cfg, gen)
    tuned = {k: v + 0.3 * draw.normal(gen, *v.shape) * v.std() for k, v in base.items()}
    idx = tokens(gen, cfg, 2, 12)
    mask = torch.ones(2, 12, dtype=torch.bool)
    mask[1, draw.integer(gen, 4, 9):] = False
    forward, reverse = student.models_kl(cfg, tuned, base, idx, mask)
    expected = reference.models_kl(cfg, tuned, base, idx, mask)
    for got, want, name in ((forward, expected[0], "KL(tuned || base)"), (reverse, expected[1], "KL(base || tuned)")):
        checks.close(got, want, what=f"mean_kl for {name} of two GPTs", rtol=RTOL, atol=ATOL)
    if abs(expected[0] - expected[1]) < 1e-6:
        raise RuntimeError("the drawn pair is nearly symmetric")
