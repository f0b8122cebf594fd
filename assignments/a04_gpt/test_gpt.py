"""Public tests for a04_gpt. Run `pytest -q` in this folder.

`student` is your submission: `student.gelu(x)` calls your `gelu`, `student.model_logits(...)`
calls the adapter of that name in adapters.py, which builds your `GPT`. Expected values
come from PyTorch's own functions or from properties every correct GPT-2 has.
"""

import math

import pytest
import torch
import torch.nn.functional as F

torch.manual_seed(0)
TINY = {"vocab_size": 40, "context_length": 12, "d_model": 16, "n_layers": 2, "n_heads": 4, "dropout": 0.0}


def tiny_state(config=TINY):
    """Random weights with GPT-2's names for the TINY configuration (head tied: no lm_head)."""
    d, v, L = config["d_model"], config["vocab_size"], config["n_layers"]
    state = {"wte.weight": torch.randn(v, d) * 0.3, "wpe.weight": torch.randn(config["context_length"], d) * 0.3,
             "ln_f.weight": 1 + 0.1 * torch.randn(d), "ln_f.bias": 0.1 * torch.randn(d)}
    for i in range(L):
        for name, (rows, cols) in {"attn.c_attn": (3 * d, d), "attn.c_proj": (d, d),
                                   "mlp.c_fc": (4 * d, d), "mlp.c_proj": (d, 4 * d)}.items():
            state[f"h.{i}.{name}.weight"] = torch.randn(rows, cols) / math.sqrt(cols)
            state[f"h.{i}.{name}.bias"] = 0.1 * torch.randn(rows)
        for ln in ("ln_1", "ln_2"):
            state[f"h.{i}.{ln}.weight"] = 1 + 0.1 * torch.randn(d)
            state[f"h.{i}.{ln}.bias"] = 0.1 * torch.randn(d)
    return state


@pytest.mark.task("layer_norm")
def test_layer_norm_matches_torch(student):
    x, w, b = torch.randn(2, 3, 8) * 5 + 3, torch.randn(8), torch.randn(8)
    got = student.layer_norm_forward({"weight": w, "bias": b}, 8, 1e-5, x)
    torch.testing.assert_close(got, F.layer_norm(x, (8,), w, b, 1e-5), msg=lambda report: (
        f"{report}\nLayerNorm: biased variance (divide by d), eps inside the square root, then weight and bias"))


@pytest.mark.task("gelu")
def test_gelu_matches_torch_tanh_gelu(student):
    x = torch.linspace(-6, 6, 101)
    torch.testing.assert_close(student.gelu(x), F.gelu(x, approximate="tanh"),
                               msg="GPT-2 uses the tanh approximation of GELU, not the erf one")


@pytest.mark.task("mlp")
def test_mlp_shape(student):
    d = TINY["d_model"]
    state = {"c_fc.weight": torch.randn(4 * d, d), "c_fc.bias": torch.zeros(4 * d),
             "c_proj.weight": torch.randn(d, 4 * d), "c_proj.bias": torch.zeros(d)}
    out = student.mlp_forward(TINY, state, torch.randn(2, 5, d))
    assert out.shape == (2, 5, d), f"MLP output has shape {tuple(out.shape)}, expected (2, 5, {d})"


@pytest.mark.task("attention")
def test_attention_is_causal(student):
    d = TINY["d_model"]
    state = {"c_attn.weight": torch.randn(3 * d, d) / 4, "c_attn.bias": torch.zeros(3 * d),
             "c_proj.weight": torch.randn(d, d) / 4, "c_proj.bias": torch.zeros(d)}
    x = torch.randn(1, 6, d)
    changed = x.clone()
    changed[:, 4:] = torch.randn(1, 2, d)
    a, b = student.attention_forward(TINY, state, x), student.attention_forward(TINY, state, changed)
    torch.testing.assert_close(a[:, :4], b[:, :4], msg="positions 0-3 changed when only positions 4-5 did")


@pytest.mark.task("block")
def test_block_shape(student):
    state = {k.removeprefix("h.0."): v for k, v in tiny_state().items() if k.startswith("h.0.")}
    out = student.block_forward(TINY, state, torch.randn(2, 5, TINY["d_model"]))
    assert out.shape == (2, 5, TINY["d_model"]), f"Block output has shape {tuple(out.shape)}"


@pytest.mark.task("model")
def test_logits_shape_and_gpt2_small_parameter_count(student):
    logits = student.model_logits(TINY, tiny_state(), torch.randint(0, 40, (2, 7)))
    assert logits.shape == (2, 7, 40), f"logits have shape {tuple(logits.shape)}, expected (B, T, V) = (2, 7, 40)"
    count = student.parameter_count({})
    assert count == 124_439_808, f"GPT-2 small has 124,439,808 parameters (head tied to wte); you count {count:,}"


@pytest.mark.task("init")
def test_init_std(student):
    config = dict(TINY, vocab_size=500, d_model=64)
    state = student.initialized_state(config, 0)
    std = state["wte.weight"].std().item()
    assert abs(std - 0.02) < 0.002, f"wte weights should have std 0.02, got {std:.4f}"


@pytest.mark.task("hf_loading")
def test_load_hf_state_dict_transposes_conv1d(student):
    ours = tiny_state()
    hf = {f"transformer.{k}": (v.t() if k.endswith(("c_attn.weight", "c_proj.weight", "c_fc.weight")) else v)
          for k, v in ours.items()}
    idx = torch.randint(0, 40, (1, 6))
    torch.testing.assert_close(student.load_hf_then_logits(TINY, hf, idx), student.model_logits(TINY, ours, idx),
                               msg="after loading the Hugging Face layout, logits must equal the same weights loaded directly")


@pytest.mark.task("generation")
def test_top_p_example_and_greedy(student):
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    kept = torch.isfinite(student.filter_logits(logits, None, 0.5))
    assert kept.tolist() == [[True, False, False, False]], f"top-p 0.5 of [.5, .3, .15, .05] keeps {kept.tolist()}"
    assert student.sample_next(torch.tensor([[0.1, 3.0, 0.2]]), 0.0).tolist() == [1], "temperature 0 must be greedy"


@pytest.mark.task("generation")
def test_cached_generation_matches_uncached(student):
    state, prompt = tiny_state(), torch.randint(0, 40, (1, 3))     # 3 + 9 tokens: within the context of 12
    plain, _ = student.generate_tokens(TINY, state, prompt, 9, 0.0)
    cached, _ = student.generate_tokens(TINY, state, prompt, 9, 0.0, use_cache=True)
    assert plain.shape == (1, 12), f"generate returned shape {tuple(plain.shape)}, expected (1, 3 + 9)"
    assert torch.equal(plain, cached), f"greedy tokens differ with the cache:\n{plain}\n{cached}"


### BEGIN STANDARD
@pytest.mark.task("questions")
def test_answers_have_the_right_types(student):
    for name, kind in (("q1_embedding_share", float), ("q2_untied_parameters", int),
                       ("q3_positions_per_cached_step", int)):
        answer = getattr(student, name)()
        assert isinstance(answer, kind), f"{name} must return a {kind.__name__}, got {answer!r}"
### END STANDARD


### BEGIN HARDMODE
@pytest.mark.task("kv_generation")
def test_cached_generation_feeds_one_token_per_step(student):
    _, lengths = student.generate_tokens(TINY, tiny_state(), torch.randint(0, 40, (1, 4)), 5, 0.0, use_cache=True)
    assert lengths == [4, 1, 1, 1, 1], f"the model saw inputs of lengths {lengths}; expected the prompt, then 1 token per step"


@pytest.mark.task("kv_generation")
def test_cached_generation_past_the_context_matches_uncached(student):
    state, prompt = tiny_state(), torch.randint(0, 40, (1, 3))     # 3 + 12 tokens: past the context of 12
    plain, _ = student.generate_tokens(TINY, state, prompt, 12, 0.0)
    cached, _ = student.generate_tokens(TINY, state, prompt, 12, 0.0, use_cache=True)
    assert torch.equal(plain, cached), \
        f"greedy tokens differ with the cache past the context (refill the caches with the cropped window):\n{plain}\n{cached}"
### END HARDMODE
