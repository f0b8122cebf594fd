"""Public tests for a06_llama_moe. Run `pytest -q` in this folder.

`student` is your submission: `student.apply_rope(...)` calls your `apply_rope`,
`student.model_logits(...)` calls the adapter of that name in adapters.py, which builds your
`Llama`. Expected values come from formulas in the docstrings or from properties every
correct implementation has; the grader's hidden tests compare with a reference as well.
"""

import math

import pytest
import torch

torch.manual_seed(0)
TINY = {"vocab_size": 40, "context_length": 16, "d_model": 16, "n_layers": 2, "n_heads": 4, "n_kv_heads": 2,
        "hidden_dim": 24}


def tiny_state(config=TINY):
    """Random weights with the specified names for the TINY configuration (untied head)."""
    d, v, hid = config["d_model"], config["vocab_size"], config["hidden_dim"]
    kv = d // config["n_heads"] * config["n_kv_heads"]
    state = {"embed_tokens.weight": torch.randn(v, d), "norm.weight": 1 + 0.1 * torch.randn(d),
             "lm_head.weight": torch.randn(v, d) / math.sqrt(d)}
    for i in range(config["n_layers"]):
        shapes = {"self_attn.q_proj": (d, d), "self_attn.k_proj": (kv, d), "self_attn.v_proj": (kv, d),
                  "self_attn.o_proj": (d, d), "mlp.gate_proj": (hid, d), "mlp.up_proj": (hid, d),
                  "mlp.down_proj": (d, hid)}
        for name, (rows, cols) in shapes.items():
            state[f"layers.{i}.{name}.weight"] = torch.randn(rows, cols) / math.sqrt(cols)
        for norm in ("input_layernorm", "post_attention_layernorm"):
            state[f"layers.{i}.{norm}.weight"] = 1 + 0.1 * torch.randn(d)
    return state


@pytest.mark.task("rms_norm")
def test_rms_norm_formula(student):
    x, w = torch.randn(2, 3, 8) * 3, torch.randn(8)
    expected = x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w
    torch.testing.assert_close(student.rms_norm_forward({"weight": w}, 8, 1e-5, x), expected,
                               msg="RMSNorm: x / sqrt(mean(x^2) + eps) * weight, no mean subtraction")


@pytest.mark.task("rope")
def test_rope_position_zero_is_identity_and_norms_are_kept(student):
    x = torch.randn(1, 2, 5, 8)
    for interleaved in (False, True):
        out = student.apply_rope(x, torch.arange(5), 10000.0, interleaved)
        torch.testing.assert_close(out[:, :, 0], x[:, :, 0], msg="position 0 must not rotate")
        torch.testing.assert_close(out.norm(dim=-1), x.norm(dim=-1), msg="a rotation keeps each vector's norm")
    torch.testing.assert_close(student.rope_frequencies(4, 10000.0), torch.tensor([1.0, 0.01]))


@pytest.mark.task("rope")
def test_rope_pairs(student):
    # Meta's pairs are (x0, x1), (x2, x3); Hugging Face's are (x0, x2), (x1, x3) for D = 4.
    x = torch.tensor([1.0, 0.0, 0.0, 0.0]).view(1, 1, 1, 4)
    pos = torch.tensor([1])
    c, s = math.cos(1.0), math.sin(1.0)
    torch.testing.assert_close(student.apply_rope(x, pos, 10000.0, True).flatten(), torch.tensor([c, s, 0.0, 0.0]))
    torch.testing.assert_close(student.apply_rope(x, pos, 10000.0, False).flatten(), torch.tensor([c, 0.0, s, 0.0]))


@pytest.mark.task("swiglu")
def test_llama_2_7b_hidden_dim(student):
    assert student.llama_hidden_dim(4096, 256) == 11008, "Llama 2 7B's SwiGLU width is 11008"


@pytest.mark.task("attention")
def test_attention_is_causal(student):
    state = {k.removeprefix("layers.0.self_attn."): v for k, v in tiny_state().items() if ".self_attn." in k
             and k.startswith("layers.0.")}
    x = torch.randn(1, 6, 16)
    changed = x.clone()
    changed[:, 4:] = torch.randn(1, 2, 16)
    a, b = student.attention_forward(TINY, state, x), student.attention_forward(TINY, state, changed)
    torch.testing.assert_close(a[:, :4], b[:, :4], msg="positions 0-3 changed when only positions 4-5 did")


@pytest.mark.task("block")
def test_block_shape(student):
    state = {k.removeprefix("layers.0."): v for k, v in tiny_state().items() if k.startswith("layers.0.")}
    assert student.block_forward(TINY, state, torch.randn(2, 5, 16)).shape == (2, 5, 16)


@pytest.mark.task("model")
def test_cached_logits_equal_the_full_pass(student):
    state, idx = tiny_state(), torch.randint(0, 40, (2, 9))
    full = student.model_logits(TINY, state, idx)
    assert full.shape == (2, 9, 40), f"logits have shape {tuple(full.shape)}, expected (B, T, V) = (2, 9, 40)"
    torch.testing.assert_close(student.model_logits(TINY, state, idx, 2), full, rtol=1e-4, atol=1e-4,
                               msg="fed 2 tokens at a time with caches, the logits must equal the full pass")


@pytest.mark.task("router")
def test_route_renormalizes(student):
    weights, experts = student.route(torch.tensor([[2.0, 0.0, 1.0, -1.0]]), 2)
    assert experts.tolist() == [[0, 2]], f"top-2 of [2, 0, 1, -1] is experts [0, 2]; got {experts.tolist()}"
    torch.testing.assert_close(weights, torch.softmax(torch.tensor([[2.0, 1.0]]), -1))


@pytest.mark.task("moe")
def test_moe_with_one_expert_is_that_expert(student):
    d, hid = 8, 12
    state = {"router.weight": torch.randn(1, d), "gate_proj": torch.randn(1, hid, d), "up_proj": torch.randn(1, hid, d),
             "down_proj": torch.randn(1, d, hid)}
    x = torch.randn(2, 3, d)
    out, logits = student.moe_forward(d, hid, 1, 1, True, state, x)
    expected = student.swiglu_forward(d, hid, {"gate_proj.weight": state["gate_proj"][0],
                                               "up_proj.weight": state["up_proj"][0],
                                               "down_proj.weight": state["down_proj"][0]}, x)
    assert logits.shape == (6, 1), f"router logits should be (N, E) = (6, 1), got {tuple(logits.shape)}"
    torch.testing.assert_close(out, expected, msg="one expert, top-1: the layer is that expert's SwiGLU")


@pytest.mark.task("balance_loss")
def test_balance_loss_at_uniform_routing(student):
    logits = torch.zeros(10, 8)
    assert abs(float(student.load_balancing_loss(logits, 2, "mixtral")) - 2.0) < 1e-6, "Mixtral form: k at balance"
    assert abs(float(student.load_balancing_loss(logits, 2, "switch")) - 1.0) < 1e-6, "Switch form: 1 at balance"


### BEGIN STANDARD
@pytest.mark.task("questions")
def test_answers_have_the_right_types(student):
    assert isinstance(student.q1_active_expert_parameters(), int)
    assert student.q2_why_rmsnorm() in ("a", "b", "c")
    assert len(student.q3_balance_loss_at_balance()) == 2
### END STANDARD


### BEGIN HARDMODE
@pytest.mark.task("batched_moe")
def test_batched_moe_equals_the_layer(student):
    d, hid, n_experts = 8, 12, 4
    state = {"router.weight": torch.randn(n_experts, d), "gate_proj": torch.randn(n_experts, hid, d),
             "up_proj": torch.randn(n_experts, hid, d), "down_proj": torch.randn(n_experts, d, hid)}
    x = torch.randn(2, 5, d)
    out, _, _ = student.moe_batched_forward(d, hid, n_experts, 2, True, state, x)
    torch.testing.assert_close(out, student.moe_forward(d, hid, n_experts, 2, True, state, x)[0])
### END HARDMODE
