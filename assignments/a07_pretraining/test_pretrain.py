"""Public tests for a07_pretraining. Run `pytest -q` in this folder.

`student` is your submission: `student.cross_entropy(...)` calls your function,
`student.adamw_run(...)` the adapter of that name in adapters.py. Expected values come
from PyTorch's own functions (`F.cross_entropy`, `torch.optim.AdamW`, `clip_grad_norm_`)
or from the formulas in the handout. The grader's hidden tests go further, and train your
model to a loss band on a source whose best possible loss is known.
"""

import math

import pytest
import torch
import torch.nn.functional as F

torch.manual_seed(0)
TINY = {"vocab_size": 20, "context_length": 8, "d_model": 16, "n_layers": 1, "n_heads": 2, "dropout": 0.0}


@pytest.mark.task("data")
def test_get_batch_shifted(student):
    x, y = student.batch(torch.arange(50), 4, 6, 0)
    assert x.shape == y.shape == (4, 6)
    assert torch.equal(y, x + 1), "y must be x shifted by one: y[b] = ids[s + 1 : s + T + 1]"


@pytest.mark.task("cross_entropy")
def test_cross_entropy_matches_torch(student):
    logits, targets = torch.randn(6, 10) * 1000, torch.randint(0, 10, (6,))
    targets[2] = -100
    torch.testing.assert_close(student.cross_entropy(logits, targets), F.cross_entropy(logits, targets))


@pytest.mark.task("adamw")
def test_adamw_matches_torch(student):
    param, grads = torch.randn(4), [[torch.randn(4)] for _ in range(5)]
    got = student.adamw_run([param], grads, 0.1, (0.9, 0.999), 1e-8, 0.1)
    p = torch.nn.Parameter(param.clone())
    opt = torch.optim.AdamW([p], lr=0.1, weight_decay=0.1)
    for g in grads:
        p.grad = g[0].clone()
        opt.step()
    torch.testing.assert_close(got[-1][0], p.detach())


@pytest.mark.task("clipping")
def test_clipping_matches_torch(student):
    grads = [torch.randn(3, 2, dtype=torch.float64) * 5, None]
    total, clipped = student.clip_run(grads, 1.0)
    p = torch.nn.Parameter(torch.zeros(3, 2, dtype=torch.float64))
    p.grad = grads[0].clone()
    torch.testing.assert_close(total, torch.nn.utils.clip_grad_norm_([p], 1.0))
    torch.testing.assert_close(clipped[0], p.grad)


@pytest.mark.task("schedule")
def test_schedule_example(student):
    assert [round(student.lr_at(t, 1.0, 0.1, 2, 6), 4) for t in range(8)] == [0.0, 0.5, 1.0, 0.8682, 0.55, 0.2318, 0.1, 0.1]


@pytest.mark.task("training")
def test_first_loss_near_ln_v(student):
    import gpt
    model = gpt.GPT(gpt.GPTConfig(**TINY))
    gpt.init_weights(model, torch.Generator().manual_seed(0))
    state = {k: v for k, v in model.state_dict().items() if k != "lm_head.weight"}
    ids = torch.randint(0, 20, (1, 4, 9)).expand(5, -1, -1)     # one batch, five steps
    losses, _ = student.trajectory(TINY, state, torch.stack([ids[..., :-1], ids[..., 1:]], 1), 1e-2, 0.0, 1.0)
    assert abs(losses[0] - math.log(20)) < 0.05, f"first loss {losses[0]:.3f}; expected about ln 20 = {math.log(20):.3f}"
    assert losses[-1] < losses[0]


@pytest.mark.task("checkpoint")
def test_resume_exact(student):
    ids = torch.randint(0, 20, (2000,))
    out = student.resume_run(TINY, {"steps": 12, "batch_size": 4, "warmup_steps": 2, "eval_every": 4}, ids, 0, 5)
    for k, v in out["whole"].items():
        assert torch.equal(v, out["resumed"][k]), f"{k} differs after resuming"


@pytest.mark.task("threshold")
def test_training_lowers_the_loss(student):
    ids = torch.arange(3000) % 7                       # a cycle: perfectly predictable
    out = student.train_run({**TINY, "vocab_size": 7}, {"steps": 100, "eval_every": 25, "batch_size": 16,
                                                        "max_lr": 1e-2, "warmup_steps": 10}, ids, 0)
    curve = out["curve"]
    assert [p["step"] for p in curve] == [24, 49, 74, 99]
    assert curve[-1]["val_loss"] < 0.1, f"the loss on a 7-cycle should fall near 0 (0.01 for the reference); curve: {curve}"
