"""Hidden test, task threshold: the student's ``train`` must learn a source whose best
possible loss is known exactly.

The grader draws a second-order Markov source and its training ids now (``source.py``),
calls the student's ``train`` in the worker with the profile's fixed configuration, budget
and seed, and gets back only the trained weights. It loads them into the REFERENCE GPT
(strict keys and shapes) and measures the loss itself on fresh held-out sequences, against
the true model's loss on the same tokens. The student's own curve is shown, never graded.
The band is in grading.toml (``threshold.bars``), calibrated by
``tests/benchmarks/calibrate_a07.py``.
"""

from __future__ import annotations

import math

import pytest
import torch

from autograder.grade import checks

from . import common
from .threshold import check_weights, prepare, reported, trusted_loss

pytestmark = pytest.mark.task("threshold")

def test_trained_model_reaches_the_band(student, reference_module, gen, bars, record, request):
    profile, device = common.profile(request)
    model_config, train_config, src, ids, seed = prepare(bars, device, gen)
    h2, h1, lnv = src.entropy_rate, src.bigram_entropy, math.log(src.vocab_size)
    record("profile", profile)
    record("device", device)
    record("steps", train_config["steps"])
    record("entropy_rate", h2)
    record("bigram_entropy", h1)
    out, usage = student.measure("train_run", model_config, train_config, ids, seed)
    record("train_wall_s", round(usage["seconds"], 2))
    record("worker_peak_rss_mb", round(usage["peak_rss_mb"], 1))
    curve = reported(out.get("curve") if isinstance(out, dict) else None)
    state = out.get("state") if isinstance(out, dict) else out
    check_weights(reference_module, model_config, state)
    loss, true_loss = trusted_loss(reference_module, model_config, state, src, gen, device)
    low, high = bars["gap_band"]
    gap = loss - true_loss
    record("curve", {"kind": "loss_curve", "reported": curve, "trusted": [{"step": train_config["steps"] - 1,
                                                                            "val_loss": loss}],
                     "band": [true_loss + low, true_loss + high], "references": {
                         "entropy rate (best possible)": h2, "bigram-only model": h1, "untrained (ln V)": lnv},
                     "title": f"a07 threshold ({profile} profile)"})
    record("trusted_val_loss", loss)
    record("true_model_loss", true_loss)
    record("gap", gap)
    record("band", [true_loss + low, true_loss + high])
    if not math.isfinite(loss):
        checks.fail("the trained model's loss is not finite: the weights blew up (NaN or inf during training)")
    if low <= gap <= high:
        return
    where = (f"The grader measured your trained model's loss on fresh held-out data: {loss:.4f} nats. The best "
             f"possible loss on the same tokens is {true_loss:.4f} (entropy rate {h2:.4f}); the band is "
             f"[{true_loss + low:.4f}, {true_loss + high:.4f}], i.e. within {high} nats of the best.")
    if gap < low:
        checks.fail(where + " Your loss is BELOW the best possible, which no causal model can reach: "
                    "please report this to the course staff.")
    final = curve[-1]["val_loss"] if curve else None
    if final is not None and final < h2 - 0.1:
        checks.fail(where + f"\nLikely mistake: your own evaluation reports {final:.4f}, below the entropy rate "
                    f"{h2:.4f}, which is impossible for a model that only sees the past: your model sees the tokens "
                    "it predicts (is the causal mask missing?). Evaluated causally, it has not learned.")
    init = {k: v for k, v in reference_module.build_model(model_config, seed).state_dict().items()}
    if abs(loss - lnv) < 0.1 and all(torch.allclose(state[k], init[k], atol=1e-6) for k in state):
        checks.fail(where + f"\nLikely mistake: the weights came back as initialized, untrained (loss near ln V = "
                    f"{lnv:.4f}): are they updated (optimizer.step()), and is the model train returns the trained one?")
    if loss > h1 - 0.1:
        checks.fail(where + f"\nLikely mistake: a model that sees only the current token (bigram) reaches "
                    f"{h1:.4f} at best; yours does no better, so it does not use the earlier tokens (windows of "
                    "length 1? the wrong context_length?). Or it trained far too little.")
    checks.fail(where + f" Your curve: {[round(p['val_loss'], 3) for p in curve][-5:]}. Check the learning-rate "
                "schedule and the training configuration you were given (steps, batch size, lr).")
