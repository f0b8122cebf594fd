"""a07's own project tests: the Markov source's exact entropy rate, that an untrained and a
bigram-only model land outside the band, the reference's docstring examples, and the loss
curve in feedback.html."""

from __future__ import annotations

import doctest
import math
import sys

import pytest
import torch

from autograder import config
from autograder.harness import local
from autograder.report import curves, feedback
from tests.conftest import ROOT

A07 = ROOT / "assignments" / "a07_pretraining"


@pytest.fixture(scope="module")
def modules():
    folders = [str(A07), *(str(ROOT / "reference" / a) for a in ("a07_pretraining", "a04_gpt", "a03_attention"))]
    sys.path[:0] = folders
    try:
        ref = local.load_file("_a07_reference_pretrain", ROOT / "reference" / "a07_pretraining" / "pretrain.py")
        from hidden import source
        from hidden import threshold as test_threshold
        yield ref, source, test_threshold
    finally:
        del sys.path[:len(folders)]


@pytest.fixture(scope="module")
def bars():
    return config.load(ROOT).assignment("a07_pretraining").tasks["threshold"].bars_for("cpu")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_entropy_rate_is_the_true_models_loss(modules, seed):
    """On 400k sampled ids the true model's mean loss matches H2 within 4 standard errors,
    and the bigram predictor estimated from the same sample matches H1."""
    _, source, _ = modules
    gen = torch.Generator().manual_seed(seed)
    src = source.make_source(16, 0.2, gen)
    ids = source.sample_ids(src, 400_000, gen)
    nll = -src.table[ids[:-2], ids[1:-1], ids[2:]].log()
    assert abs(nll.mean().item() - src.entropy_rate) < 4 * nll.std().item() / math.sqrt(len(nll)) + 1e-3
    counts = torch.zeros(16, 16, dtype=torch.float64).index_put_((ids[:-1], ids[1:]), torch.ones(len(ids) - 1,
                                                                 dtype=torch.float64), accumulate=True)
    cond = counts / counts.sum(-1, keepdim=True)
    bigram_nll = -cond[ids[:-1], ids[1:]].log().mean().item()
    assert abs(bigram_nll - src.bigram_entropy) < 0.01
    assert torch.allclose(src.pairs.sum(), torch.tensor(1.0, dtype=torch.float64))


@pytest.mark.parametrize("seed", [1, *(pytest.param(s, marks=pytest.mark.slow) for s in (2, 3, 4, 5))])
def test_untrained_and_bigram_models_are_outside_the_band(modules, bars, seed):
    ref, _source, threshold = modules
    _low, high = bars["gap_band"]
    gen = torch.Generator().manual_seed(seed)
    model_config, _, src, _ids, train_seed = threshold.prepare(bars, "cpu", gen)
    assert src.bigram_entropy - src.entropy_rate > 5 * high          # the best bigram model
    assert math.log(src.vocab_size) - src.entropy_rate > 5 * high
    model = ref.build_model(model_config, train_seed)                 # untrained, evaluated as graded
    state = {k: v for k, v in model.state_dict().items() if k != "lm_head.weight"}
    loss, true_loss = threshold.trusted_loss(ref, model_config, state, src, gen, "cpu")
    assert loss - true_loss > 5 * high and abs(loss - math.log(src.vocab_size)) < 0.05


def test_reference_docstring_examples(modules):
    ref, _, _ = modules
    failures, tried = doctest.testmod(ref, verbose=False)
    assert tried >= 4 and failures == 0


def _document(curve):
    return {"score": 3, "extra_data": {"assignment": "a07_pretraining", "max_score": 8, "variant": "standard",
                                       "tasks": {"threshold": {"title": "t", "score": 0, "max_score": 8}}},
            "tests": [{"name": "threshold: x", "status": "failed", "output": "WRONG RESULT: far from the band",
                       "extra_data": {"task": "threshold", "public": False, "recorded": {"curve": curve}}}]}


def test_feedback_html_shows_the_loss_curve():
    curve = {"kind": "loss_curve", "title": "demo", "reported": [{"step": s, "val_loss": 3 - s / 100, "train_loss": 3.1 - s / 100}
                                                                 for s in range(0, 150, 10)],
             "trusted": [{"step": 149, "val_loss": 1.7}], "band": [1.57, 1.67], "references": {"entropy rate": 1.6}}
    png = curves.render(curve)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    page = feedback.html_page(_document(curve), "alice")
    assert page.count("data:image/png;base64,") == 1 and "threshold: x" not in page.split("Loss curves")[1]


def test_malformed_curve_is_left_out():
    assert curves.html(_document({"kind": "loss_curve", "reported": "garbage", "band": "x"})).count("<img") == 1
    assert curves.html(_document({"kind": "other"})) == ""
    assert "<img" not in feedback.html_page(_document(None), "bob")
