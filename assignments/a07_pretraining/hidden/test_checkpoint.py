"""Hidden tests, task checkpoint: a run stopped, checkpointed and resumed ends bitwise where
the uninterrupted run ends (model, optimizer, schedule, data position), curve included."""

import pytest
import torch

from autograder.grade import checks, draw

from . import common

pytestmark = pytest.mark.task("checkpoint")


def test_resume_is_bitwise_exact(student, gen):
    cfg = common.config(gen, n_layers=1)
    ids = common.tokens(gen, cfg["vocab_size"], 3000)
    steps = draw.integer(gen, 24, 30)
    stop = draw.integer(gen, 8, steps - 8)
    tcfg = {"steps": steps, "batch_size": 8, "max_lr": 1e-2, "min_lr": 1e-3, "warmup_steps": 5, "eval_every": 6,
            "eval_batches": 2}
    seed = draw.integer(gen, 0, 2**20)
    out = student.resume_run(cfg, tcfg, ids, seed, stop)
    whole, resumed = out["whole"], out["resumed"]
    if set(whole) != set(resumed):
        checks.fail(f"the resumed model has other weights than the uninterrupted one: {sorted(set(whole) ^ set(resumed))[:4]}")
    differ = [k for k in whole if not torch.equal(whole[k], resumed[k])]
    if differ:
        k = differ[0]
        gap = (whole[k].double() - resumed[k].double()).abs().max().item()
        checks.fail(f"stopping after {stop} of {steps} steps and resuming from the checkpoint does not end with the "
                    f"uninterrupted run's weights: {len(differ)} of {len(whole)} tensors differ (e.g. {k}, by up to "
                    f"{gap:.3g}). Bitwise resume needs the model, the optimizer's state (AdamW's m, v and step), the "
                    f"next step (the schedule) and the data generator's state in the checkpoint, all restored.")
    checks.equal([round(p["step"]) for p in out["resumed_curve"]], [round(p["step"]) for p in out["whole_curve"]],
                 what="the steps of the resumed run's curve", hint="the checkpoint carries the curve so far")
