"""Hidden tests, task training: the loss at initialization, a 10-step trajectory that must
match the reference's (same init, data and optimizer, float64 on the CPU, as llm.c's
test_gpt2), overfitting one batch, and evaluation."""

import math

import pytest
import torch

from autograder.grade import checks, draw

from . import bugs, common

pytestmark = pytest.mark.task("training")


def _batches(gen, cfg, n, b=4):
    t = cfg["context_length"]
    ids = common.tokens(gen, cfg["vocab_size"], n, b, t + 1)
    return torch.stack([ids[:, :, :-1], ids[:, :, 1:]], dim=1)            # (n, 2, B, T)


def test_ten_step_trajectory(student, reference, reference_module, gen):
    cfg = common.config(gen)
    state = common.init_state(reference_module, cfg, gen)
    batches = _batches(gen, cfg, 10)
    lr, wd, max_norm = 1e-2, 0.1, 0.2          # the gradient norm at init is ~1: clipping is active
    losses, final = student.trajectory(cfg, state, batches, lr, wd, max_norm)
    want_losses, want_final = reference.trajectory(cfg, state, batches, lr, wd, max_norm)
    if not isinstance(losses, list) or len(losses) != 10 or not all(isinstance(v, float) for v in losses):
        checks.fail(f"train_step should return the loss as a float; 10 steps gave {checks.describe(losses)}")
    got = torch.tensor(losses, dtype=torch.float64)
    want = torch.tensor(want_losses, dtype=torch.float64)

    def with_mistake(buggy):         # a thunk: 10 more steps each, run only once the losses are wrong
        def alternative():
            with checks.patched(reference_module, train_step=buggy):
                return torch.tensor(reference.trajectory(cfg, state, batches, lr, wd, max_norm)[0], dtype=torch.float64)
        return alternative

    diagnoses = [(label, with_mistake(buggy)) for label, buggy in bugs.train_steps(reference_module)]
    # float64: the same computation in another style agrees to ~1e-13; the nearest mistake
    # (no clipping) changes the second loss by ~1e-3.
    checks.close(got, want, what="the losses of 10 train_step calls (torch.optim.AdamW, lr 1e-2, max_norm 0.2)",
                 rtol=1e-9, atol=1e-10, diagnoses=diagnoses)
    for name, value in want_final.items():
        checks.close(final.get(name), value, what=f"{name} after 10 steps", rtol=1e-8, atol=1e-10)


def test_initial_loss_and_overfit_one_batch(student, reference_module, gen):
    cfg = common.config(gen, n_layers=1)
    state = common.init_state(reference_module, cfg, gen)
    batches = _batches(gen, cfg, 1).expand(120, -1, -1, -1).contiguous()    # the same batch 120 times
    losses, _ = student.trajectory(cfg, state, batches, 1e-2, 0.0, 1.0)
    first, last = losses[0], losses[-1]
    v = cfg["vocab_size"]
    if abs(first - math.log(v)) > 0.05:
        checks.fail(f"the first loss is {first:.4f}; at GPT-2's initialization the logits are nearly zero, so it "
                    f"should be close to ln V = ln {v} = {math.log(v):.4f}")
    if not last < 0.05 * first:
        checks.fail(f"overfitting one batch for 120 steps (lr 1e-2): the loss went from {first:.3f} to {last:.3f}; "
                    f"a working step drives it below 5% of the first ({0.05 * first:.3f}). Losses every 20 steps: "
                    f"{[round(v, 3) for v in losses[::20]]}")


def test_estimate_loss(student, reference, reference_module, gen):
    cfg = common.config(gen)
    state = common.init_state(reference_module, cfg, gen)
    ids = common.tokens(gen, cfg["vocab_size"], 400)
    seed = draw.integer(gen, 0, 2**30)
    got = student.evaluate(cfg, state, ids, 5, 3, seed)
    want = reference.evaluate(cfg, state, ids, 5, 3, seed)
    if not isinstance(got[0], float) or abs(got[0] - want[0]) > 1e-9:
        checks.fail(f"estimate_loss: expected {want[0]:.6f} (the mean of 3 batches of get_batch(ids, 5, "
                    f"context_length, device, generator)), got {checks.describe(got[0])}")
    if got[1] is not True:
        checks.fail("estimate_loss left the model in eval mode; put it back in training mode (model.train(was_training))")
    if got[2] is not True:
        checks.fail("estimate_loss changed the model's weights; evaluate under torch.no_grad() without stepping")
