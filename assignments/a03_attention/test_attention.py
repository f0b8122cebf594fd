"""Public tests for a03_attention. Run `pytest -q` in this folder.

`student` is your submission: `student.softmax(x)` calls your `softmax`, and
`student.mha_forward(...)` calls the adapter of that name in adapters.py, which builds your
`MultiHeadAttention`. The grader runs these tests too, plus hidden ones on inputs drawn at
grading time. Expected values here come from PyTorch's own implementations.
"""

import math

import pytest
import torch
import torch.nn.functional as F

torch.manual_seed(0)


def hint(text):
    """Keep torch's report of where the values differ, and add what to look at."""
    return lambda report: f"{report}\n{text}"


def mha_state(d_model, bias=True, n_kv_heads=None, n_heads=None):
    kv = d_model if n_kv_heads is None else n_kv_heads * (d_model // n_heads)
    state = {}
    for name, d_out in (("q_proj", d_model), ("k_proj", kv), ("v_proj", kv), ("out_proj", d_model)):
        state[f"{name}.weight"] = torch.randn(d_out, d_model) / math.sqrt(d_model)
        if bias:
            state[f"{name}.bias"] = torch.randn(d_out) * 0.1
    return state


@pytest.mark.task("softmax")
def test_softmax_matches_torch(student):
    x = torch.randn(3, 5)
    torch.testing.assert_close(student.softmax(x, dim=-1), torch.softmax(x, dim=-1),
                               msg=hint("softmax(x, dim=-1): exponentiate, then divide by the sum along dim"))
    torch.testing.assert_close(student.softmax(x, dim=0), torch.softmax(x, dim=0),
                               msg=hint("softmax(x, dim=0) is wrong: use the `dim` argument everywhere"))


@pytest.mark.task("softmax")
def test_softmax_is_stable_for_large_logits(student):
    out = student.softmax(torch.tensor([1000.0, 1000.0]))
    assert torch.isfinite(out).all(), f"got {out}: subtract the maximum before exponentiating"
    torch.testing.assert_close(out, torch.tensor([0.5, 0.5]), msg=hint("softmax([1000, 1000]) must be [0.5, 0.5]"))


@pytest.mark.task("softmax")
def test_softmax_of_all_minus_inf_is_zero(student):
    out = student.softmax(torch.full((2, 3), float("-inf")))
    torch.testing.assert_close(out, torch.zeros(2, 3), msg="an all -inf slice must give zeros, not NaN")


@pytest.mark.task("sdpa")
def test_sdpa_matches_torch(student):
    q, k, v = torch.randn(2, 3, 4, 8), torch.randn(2, 3, 6, 8), torch.randn(2, 3, 6, 5)
    mask = torch.rand(4, 6) > 0.3
    mask[:, 0] = True                                   # no fully masked rows here
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(student.scaled_dot_product_attention(q, k, v, mask), expected, msg=hint(
        "check: scores scaled by 1/sqrt(D); masked scores set to -inf (mask True = may attend); softmax over the keys"))


@pytest.mark.task("sdpa")
def test_attention_weights_sum_to_one(student):
    w = student.attention_weights(torch.randn(2, 4, 8), torch.randn(2, 6, 8))
    assert w.shape == (2, 4, 6), f"weights have shape {tuple(w.shape)}, expected (B, T_q, T_k) = (2, 4, 6)"
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 4), msg=hint("each query's weights must sum to 1 over the keys (last dim)"))


@pytest.mark.task("masks")
def test_causal_mask_example(student):
    got, expected = student.causal_mask(2, 3), torch.tensor([[True, True, False], [True, True, True]])
    assert torch.equal(got, expected), f"causal_mask(2, 3) returned\n{got}\nexpected\n{expected}"


@pytest.mark.task("masks")
def test_padding_mask_example(student):
    mask = student.padding_mask(torch.tensor([1, 3]), 3)
    assert mask.shape == (2, 1, 1, 3), f"padding_mask returned shape {tuple(mask.shape)}, expected (2, 1, 1, 3)"
    expected = torch.tensor([[True, False, False], [True, True, True]])
    assert torch.equal(mask[:, 0, 0], expected), f"padding_mask([1, 3], 3) gave\n{mask[:, 0, 0]}\nexpected\n{expected}"


@pytest.mark.task("self_attention")
def test_self_attention_shape(student):
    state = {f"{n}.weight": torch.randn(4, 6) for n in ("q_proj", "k_proj", "v_proj")}
    out = student.self_attention_forward(state, 6, 4, torch.randn(2, 5, 6))
    assert out.shape == (2, 5, 4), f"output shape {tuple(out.shape)}, expected (B, T, d_out) = (2, 5, 4)"


@pytest.mark.task("mha")
def test_split_then_merge_heads_is_identity(student):
    x = torch.randn(2, 5, 12)
    heads = student.split_heads(x, 3)
    assert heads.shape == (2, 3, 5, 4), f"split_heads gave shape {tuple(heads.shape)}, expected (B, H, T, D) = (2, 3, 5, 4)"
    assert torch.equal(heads[:, 1], x[:, :, 4:8]), "head 1 must hold features 4..7 of every position"
    assert torch.equal(student.merge_heads(heads), x), "merge_heads(split_heads(x)) must give x back"


@pytest.mark.task("mha")
def test_mha_matches_torch_multihead_attention(student):
    d_model, n_heads = 16, 4
    state = mha_state(d_model)
    x = torch.randn(2, 5, d_model)
    torch_mha = torch.nn.MultiheadAttention(d_model, n_heads, batch_first=True)
    with torch.no_grad():
        torch_mha.in_proj_weight.copy_(torch.cat([state[f"{n}.weight"] for n in ("q_proj", "k_proj", "v_proj")]))
        torch_mha.in_proj_bias.copy_(torch.cat([state[f"{n}.bias"] for n in ("q_proj", "k_proj", "v_proj")]))
        torch_mha.out_proj.weight.copy_(state["out_proj.weight"])
        torch_mha.out_proj.bias.copy_(state["out_proj.bias"])
        causal = torch.ones(5, 5, dtype=torch.bool).tril()
        expected, _ = torch_mha(x, x, x, attn_mask=~causal)   # PyTorch's mask: True = blocked
    got = student.mha_forward(state, d_model, n_heads, x, causal)
    torch.testing.assert_close(got, expected, msg=hint(
        "check: heads split as view(B, T, H, D).transpose(1, 2) and merged back the same way; out_proj applied"))


@pytest.mark.task("kv_cache")
def test_cached_decoding_equals_full_forward(student):
    state, x = mha_state(16), torch.randn(1, 6, 16)
    full = student.mha_forward(state, 16, 4, x, student.causal_mask(6))
    cached, shapes = student.mha_incremental(state, 16, 4, x, 1)
    torch.testing.assert_close(cached, full, msg=hint(
        "cached decoding must equal the full causal pass: append along time (dim 2), mask each step with "
        "causal_mask(T_new, T_past + T_new)"))
    assert shapes[-1][0] == (1, 4, 6, 4), f"the cache holds keys of shape {shapes[-1][0]}; expected (B, H, T, D) = (1, 4, 6, 4)"


@pytest.mark.task("gqa")
def test_repeat_kv_example(student):
    x = torch.arange(2.0).view(1, 2, 1, 1)                     # heads [a, b] = [0, 1]
    got = student.repeat_kv(x, 2).flatten().tolist()
    assert got == [0.0, 0.0, 1.0, 1.0], f"repeat_kv([a, b], 2) gave heads {got}, expected [a, a, b, b] = [0, 0, 1, 1]"


@pytest.mark.task("gqa")
def test_gqa_with_all_heads_is_mha(student):
    state, x = mha_state(16), torch.randn(2, 5, 16)
    mask = student.causal_mask(5)
    torch.testing.assert_close(student.gqa_forward(state, 16, 4, 4, x, mask), student.mha_forward(state, 16, 4, x, mask),
                               msg=hint("with n_kv_heads == n_heads, GroupedQueryAttention must equal MultiHeadAttention"))


### BEGIN STANDARD
@pytest.mark.task("questions")
def test_answers_have_the_right_types(student):
    shape = student.q1_weights_shape()
    assert isinstance(shape, tuple) and len(shape) == 4 and all(isinstance(n, int) for n in shape), \
        f"q1 must return a tuple of 4 ints, got {shape!r}"
    for name, kind in (("q2_mha_parameters", int), ("q3_kv_cache_bytes", int), ("q4_gqa_cache_ratio", float)):
        answer = getattr(student, name)()
        assert isinstance(answer, kind), f"{name} must return a {kind.__name__}, got {answer!r}"
### END STANDARD


### BEGIN HARDMODE
@pytest.mark.task("gqa_kv_cache")
def test_kv_cache_bytes_gpt2_example(student):
    got = student.kv_cache_bytes(1, 1, 12, 12, 64, 2)
    assert got == 36_864, f"kv_cache_bytes for one GPT-2 small token in float16 gave {got}, expected 36,864"


@pytest.mark.task("gqa_kv_cache")
def test_mqa_cache_holds_one_head(student):
    state, x = mha_state(16, n_kv_heads=1, n_heads=4), torch.randn(1, 3, 16)
    _, shapes = student.gqa_incremental(state, 16, 4, 1, x, 1)
    assert shapes[-1][0] == (1, 1, 3, 4), \
        f"the cache holds keys of shape {shapes[-1][0]}; expected (1, 1, 3, 4): cache the key/value heads before repeating them"
### END HARDMODE
