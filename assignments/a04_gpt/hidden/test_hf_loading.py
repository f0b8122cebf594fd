"""Hidden tests, task hf_loading: a Hugging Face GPT-2 state dict (``transformer.`` prefix,
transposed Conv1D weights, mask buffers, no lm_head) loads into the same model."""

import pytest
import torch

from autograder.grade import checks

from .common import ATOL, RTOL, config, gpt_state, tokens

pytestmark = pytest.mark.task("hf_loading")
CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


def hf_layout(state: dict, cfg: dict) -> dict:
    hf = {f"transformer.{k}": (v.t().contiguous() if k.endswith(CONV1D) else v) for k, v in state.items()}
    t = cfg["context_length"]
    for i in range(cfg["n_layers"]):              # buffers older checkpoints carry
        hf[f"transformer.h.{i}.attn.bias"] = torch.tril(torch.ones(t, t, dtype=torch.float64)).view(1, 1, t, t)
        hf[f"transformer.h.{i}.attn.masked_bias"] = torch.tensor(-1e4, dtype=torch.float64)
    return hf


def test_loaded_model_gives_the_reference_logits(student, reference, reference_module, gen):
    cfg = config(gen)
    state = gpt_state(reference_module, cfg, gen)
    idx = tokens(gen, cfg, 2, 8)
    expected = reference.model_logits(cfg, state, idx)
    hf = hf_layout(state, cfg)
    square = {k: (v.t().contiguous() if k.endswith("attn.c_proj.weight") else v) for k, v in state.items()}
    checks.close(student.load_hf_then_logits(cfg, hf, idx), expected, what="logits after load_hf_state_dict",
                 rtol=RTOL, atol=ATOL,
                 diagnoses=[("attn.c_proj.weight was not transposed: it is square, so it loads without an error, "
                             "but every Conv1D weight must be transposed", reference.model_logits(cfg, square, idx))])


@pytest.mark.parametrize("change", ["unexpected", "missing"])
def test_a_wrong_checkpoint_is_refused(student, reference_module, gen, change):
    cfg = config(gen, n_layers=1)
    hf = hf_layout(gpt_state(reference_module, cfg, gen), cfg)
    if change == "unexpected":
        hf["transformer.h.0.attn.c_attn.extra"] = torch.zeros(3, dtype=torch.float64)
    else:
        del hf["transformer.h.0.mlp.c_fc.bias"]
    checks.raises(KeyError, student.load_hf_then_logits, cfg, hf, tokens(gen, cfg, 1, 3),
                  what=f"load_hf_state_dict with a {change} weight",
                  why="a checkpoint that does not match the model must fail loudly, not load half the weights")
