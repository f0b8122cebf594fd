"""Hidden tests, task router: top-k experts and their weights against the reference,
renormalized or not, with tied logits, and the dtype."""

import pytest
import torch

from autograder.grade import checks, draw

from .common import ATOL, RTOL

pytestmark = pytest.mark.task("router")


def diagnoses(logits, top_k, renormalize):
    w, _ = torch.softmax(logits, -1).topk(top_k, -1)
    other = w / w.sum(-1, keepdim=True) if not renormalize else w
    return [(("the weights are renormalized over the chosen k; renormalize=False keeps the softmax probabilities"
              if not renormalize else "the weights are not renormalized over the chosen k experts"), other),
            ("the softmax runs over the tokens (dim 0); it runs over the experts (dim -1)",
             torch.softmax(logits, 0).gather(-1, torch.softmax(logits, -1).topk(top_k, -1).indices))]


@pytest.mark.parametrize("renormalize", [True, False])
def test_matches_reference(student, reference, gen, renormalize):
    n_experts = draw.integer(gen, 4, 10)
    top_k = draw.integer(gen, 1, 3)
    logits = draw.normal(gen, draw.integer(gen, 5, 20), n_experts, scale=2.0)
    weights, experts = student.route(logits, top_k, renormalize)
    want_w, want_e = reference.route(logits, top_k, renormalize)
    checks.tensor(experts, what="route(...) experts", shape=want_e.shape, dtype=torch.int64)
    if not torch.equal(experts, want_e):
        row = int((experts != want_e).any(-1).nonzero()[0])
        checks.fail(f"route chose experts {experts[row].tolist()} for token {row}; expected {want_e[row].tolist()}, the "
                    "top-k of the softmax in decreasing order")
    checks.close(weights, want_w, what=f"route(...) weights (renormalize={renormalize})", rtol=RTOL, atol=ATOL,
                 diagnoses=diagnoses(logits, top_k, renormalize))


@pytest.mark.parametrize("renormalize", [True, False])
def test_tied_logits(student, gen, renormalize):
    # Every expert tied within a row: any k of them may be chosen (ties broken either way),
    # each with weight 1/k renormalized, 1/E not.
    n_experts, top_k = draw.integer(gen, 4, 8), 2
    logits = draw.normal(gen, 6, 1).expand(6, n_experts).contiguous()
    weights, experts = student.route(logits, top_k, renormalize)
    checks.tensor(experts, what="route(...) experts", shape=(6, top_k), dtype=torch.int64)
    if not all(len(set(row)) == top_k and all(0 <= e < n_experts for e in row) for row in experts.tolist()):
        checks.fail(f"route on tied logits chose {experts.tolist()}: each token needs {top_k} distinct experts")
    expected = torch.full((6, top_k), 1 / top_k if renormalize else 1 / n_experts, dtype=torch.float64)
    checks.close(weights, expected, what=f"route weights on tied logits (renormalize={renormalize})", rtol=RTOL,
                 atol=ATOL, diagnoses=diagnoses(logits, top_k, renormalize))


def test_keeps_the_logits_dtype(student, reference, gen):
    logits = draw.normal(gen, 8, 6, scale=3.0).half()
    weights, _ = student.route(logits, 2, True)
    checks.close(weights, reference.route(logits, 2, True)[0], what="route weights on float16 logits",
                 rtol=2e-3, atol=1e-3)        # two float16 ulps
