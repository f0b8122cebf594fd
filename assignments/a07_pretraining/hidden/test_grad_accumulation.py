"""Hidden test, task grad_accumulation (hardmode): micro-batch gradients equal the full batch's."""

import pytest
import torch

from autograder.grade import checks

from . import common

pytestmark = pytest.mark.task("grad_accumulation")


def test_equals_the_large_batch_gradient(student, reference_module, gen):
    cfg = common.config(gen)
    state = common.init_state(reference_module, cfg, gen)
    ids = common.tokens(gen, cfg["vocab_size"], 8, cfg["context_length"] + 1)
    x, y = ids[:, :-1], ids[:, 1:]
    model = reference_module.GPT(reference_module.GPTConfig(**cfg)).double()
    model.load_state_dict(state, strict=False)
    loss = reference_module.cross_entropy(model(x), y)
    loss.backward()
    full = {k: p.grad for k, p in model.named_parameters()}
    for micro in (2, 4):
        got_loss, grads = student.accumulated_gradients(cfg, state, x, y, micro)
        for name, g in full.items():
            ratio = (grads[name].norm() / g.norm()).item() if name in grads else float("nan")
            hint = (f"\nLikely mistake: the gradient is {ratio:.2f}x the full batch's: divide each micro-batch's loss "
                    "by the number of micro-batches" if abs(ratio - micro) < 1e-6 else
                    "\nLikely mistake: the stale gradients were not cleared first" if name in grads
                    and torch.allclose(grads[name], g + 1, rtol=1e-8, atol=1e-10) else "")
            if name not in grads or not torch.allclose(grads[name], g, rtol=1e-8, atol=1e-11):
                checks.fail(f"the accumulated gradient of {name} with {micro} micro-batches differs from the "
                            f"full batch's{hint}")
        if not isinstance(got_loss, float) or abs(got_loss - loss.item()) > 1e-9:
            checks.fail(f"accumulate_gradients returned loss {checks.describe(got_loss)}; expected the full batch's "
                        f"{loss.item():.6f}")
