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
import time

import pytest
import torch

from autograder.grade import checks, draw

from . import common, source

pytestmark = pytest.mark.task("threshold")

HELD_OUT = 512          # held-out sequences of context_length + 1 tokens (16k scored targets on cpu)


def run_config(bars, device: str) -> tuple[dict, dict]:
    model = {"vocab_size": bars["vocab_size"], "context_length": bars["context_length"], "d_model": bars["d_model"],
             "n_layers": bars["n_layers"], "n_heads": bars["n_heads"], "dropout": 0.0}
    steps = bars["steps"]
    train = {"steps": steps, "batch_size": bars["batch_size"], "max_lr": bars["max_lr"], "min_lr": bars["max_lr"] / 10,
             "warmup_steps": steps // 10, "weight_decay": 0.1, "betas": [0.9, 0.95], "max_norm": 1.0,
             "eval_every": max(steps // 10, 1), "eval_batches": 4, "val_fraction": 0.1, "device": device}
    return model, train


def trusted_loss(ref, model_config: dict, state: dict, src: source.Source, gen, device: str) -> tuple[float, float]:
    """``(model loss, true-model loss)`` on fresh held-out sequences, scoring targets that have
    two tokens of context (so the true model's expected loss is exactly the entropy rate)."""
    model = ref.GPT(ref.GPTConfig(**model_config))
    full = dict(state, **{"lm_head.weight": state["wte.weight"]})
    model.load_state_dict(full, strict=True)
    model = model.to(device).eval()
    t = model_config["context_length"]
    held = source.sample_ids(src, HELD_OUT * (t + 1), gen).view(HELD_OUT, t + 1)
    with torch.no_grad():
        losses = []
        for chunk in held.split(128):
            logits = model(chunk[:, :-1].to(device)).double().cpu()
            logp = torch.log_softmax(logits[:, 1:], dim=-1)
            losses.append(-logp.gather(-1, chunk[:, 2:, None]).squeeze(-1))
    model_loss = float(torch.cat(losses).mean())
    true_loss = float(-src.table[held[:, :-2], held[:, 1:-1], held[:, 2:]].log().mean())
    return model_loss, true_loss


def check_weights(ref, model_config: dict, state) -> None:
    if not isinstance(state, dict):
        checks.fail(f"train should return (model, curve); the grader received {checks.describe(state)} as the weights")
    want = {k: v.shape for k, v in ref.GPT(ref.GPTConfig(**model_config)).state_dict().items() if k != "lm_head.weight"}
    missing, extra = sorted(set(want) - set(state)), sorted(set(state) - set(want))
    if missing or extra:
        checks.fail(f"the trained model's weights do not load into a04's GPT: missing {missing[:4]}, unexpected "
                    f"{extra[:4]}. The grader evaluates your weights in the reference GPT, so train must return a "
                    "GPT with a04's names (build it with build_model).")
    for k, shape in want.items():
        checks.tensor(state[k], what=f"trained weight {k}", shape=shape, dtype=torch.float32)


def reported(curve) -> list[dict]:
    """The student's curve as plain numbers (shown in feedback only)."""
    out = []
    if isinstance(curve, list):
        for point in curve:
            if isinstance(point, dict) and all(isinstance(point.get(k), (int, float)) for k in ("step", "val_loss")):
                out.append({"step": int(point["step"]), "val_loss": float(point["val_loss"]),
                            **({"train_loss": float(point["train_loss"])}
                               if isinstance(point.get("train_loss"), (int, float)) else {})})
    return out


def test_trained_model_reaches_the_band(student, reference_module, gen, bars, record, request):
    profile, device = common.profile(request)
    model_config, train_config = run_config(bars, device)
    src = source.make_source(bars["vocab_size"], bars["alpha"], gen)
    ids = source.sample_ids(src, int(bars["train_tokens"]), gen)
    seed = draw.integer(gen, 0, 2**20)
    h2, h1, lnv = src.entropy_rate, src.bigram_entropy, math.log(src.vocab_size)
    record("profile", profile)
    record("device", device)
    record("steps", train_config["steps"])
    record("entropy_rate", h2)
    record("bigram_entropy", h1)
    started = time.perf_counter()
    out = student.train_run(model_config, train_config, ids, seed)
    wall = time.perf_counter() - started
    record("train_wall_s", round(wall, 2))
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
    if abs(loss - lnv) < 0.1:
        checks.fail(where + f"\nLikely mistake: the loss is that of an untrained model (ln V = {lnv:.4f}): are the "
                    "weights updated (optimizer.step()) and is the model train returns the one that was trained?")
    if loss > h1 - 0.1:
        checks.fail(where + f"\nLikely mistake: a model that sees only the current token (bigram) reaches "
                    f"{h1:.4f} at best; yours does no better, so it does not use the earlier tokens (windows of "
                    "length 1? the wrong context_length?). Or it trained far too little.")
    checks.fail(where + f" Your curve: {[round(p['val_loss'], 3) for p in curve][-5:]}. Check the learning-rate "
                "schedule and the training configuration you were given (steps, batch size, lr).")
