"""Hidden tests, task init: the statistics of GPT-2's initialization, judged on the weights
the submission returns, and the first loss they give (computed here, not by the student)."""

import math

import pytest
import torch
import torch.nn.functional as F

from autograder.grade import checks

pytestmark = pytest.mark.task("init")
CONFIG = {"vocab_size": 2000, "context_length": 64, "d_model": 256, "n_layers": 4, "n_heads": 4, "dropout": 0.0}


@pytest.fixture
def state(student, seed):
    return student.initialized_state(CONFIG, seed)


def test_weight_statistics(state):
    residual = 0.02 / math.sqrt(2 * CONFIG["n_layers"])
    for name, tensor in state.items():
        what = f"{name} after init_weights"
        checks.tensor(tensor, what=what)
        if name.endswith("bias"):
            if not torch.all(tensor == 0):
                checks.fail(f"{what}: biases start at 0 (LayerNorm biases too)")
        elif name.startswith("ln_f") or ".ln_" in name:
            if not torch.all(tensor == 1):
                checks.fail(f"{what}: LayerNorm weights start at 1")
        else:
            want = residual if name.endswith("c_proj.weight") else 0.02
            std = tensor.std().item()
            # these tensors have >= 65k entries: the sample std is within 1% of the truth
            if abs(std - want) > 0.05 * want or abs(tensor.mean().item()) > 0.1 * want:
                hint = (" (the residual projections c_proj use 0.02 / sqrt(2 * n_layers))"
                        if name.endswith("c_proj.weight") else "")
                checks.fail(f"{what}: std {std:.5f} and mean {tensor.mean().item():.5f}; expected std {want:.5f}, "
                            f"mean 0{hint}")


def test_first_loss_is_close_to_ln_vocab(state, reference_module, gen):
    model = reference_module.GPT(reference_module.GPTConfig(**CONFIG))
    missing, unexpected = model.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    idx = torch.randint(0, CONFIG["vocab_size"], (4, 64), generator=gen)
    with torch.no_grad():
        logits = model.eval()(idx)
    loss = F.cross_entropy(logits[:, :-1].reshape(-1, CONFIG["vocab_size"]), idx[:, 1:].reshape(-1)).item()
    if abs(loss - math.log(CONFIG["vocab_size"])) > 0.15:
        checks.fail(f"with your initialization the first loss is {loss:.3f}; it should be close to ln(V) = "
                    f"{math.log(CONFIG['vocab_size']):.3f} (small weights give nearly uniform predictions)")
