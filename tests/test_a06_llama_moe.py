"""Outside oracles for a06's reference, and outside-style submissions that must get full marks.

- Hugging Face transformers' ``LlamaForCausalLM`` from a small configuration with random
  weights (no download): its state dict loads into the reference by dropping ``model.``;
  the logits agree to float32 precision and cached greedy tokens are identical.
- transformers' ``MixtralSparseMoeBlock`` and ``load_balancing_loss_func``: routing, outputs
  and the auxiliary loss agree.
- Submissions written in other correct styles (Meta's complex-number RoPE, Hugging Face's
  rotate_half and ``repeat_kv``, Mixtral's one-hot expert loop) get full marks on their tasks.

transformers is a test dependency only, never a student one.
"""

from __future__ import annotations

import sys

import pytest
import torch

from autograder.harness import local
from tests.conftest import ROOT

transformers = pytest.importorskip("transformers")
REFERENCE = ROOT / "reference" / "a06_llama_moe" / "llama.py"


@pytest.fixture(scope="module")
def llama():
    sys.path.insert(0, str(ROOT / "reference" / "a03_attention"))
    try:
        return local.load_file("_oracle_llama", REFERENCE)
    finally:
        sys.path.pop(0)


def hf_llama(tied: bool):
    torch.manual_seed(0)
    config = transformers.LlamaConfig(vocab_size=300, hidden_size=64, intermediate_size=96, num_hidden_layers=3,
                                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                                      rms_norm_eps=1e-5, rope_theta=500.0, tie_word_embeddings=tied,
                                      attention_bias=False, mlp_bias=False, bos_token_id=0, eos_token_id=0,
                                      pad_token_id=0)
    hf = transformers.LlamaForCausalLM(config).eval()
    with torch.no_grad():                       # norms away from 1, so a misplaced weight shows
        for name, p in hf.named_parameters():
            if name.endswith("norm.weight"):
                p.add_(0.2 * torch.randn_like(p))
    return hf


def ours_from(llama, hf, tied: bool):
    config = llama.LlamaConfig(vocab_size=300, context_length=64, d_model=64, n_layers=3, n_heads=4, n_kv_heads=2,
                               hidden_dim=96, norm_eps=1e-5, rope_theta=500.0, tie_embeddings=tied)
    ours = llama.Llama(config).eval()
    state = {k.removeprefix("model."): v for k, v in hf.state_dict().items()}
    ours.load_state_dict(state, strict=True)
    return ours


@pytest.mark.parametrize("tied", [False, True])
def test_llama_logits_agree_to_float32_precision(llama, tied):
    hf = hf_llama(tied)
    ours = ours_from(llama, hf, tied)
    idx = torch.randint(0, 300, (3, 40), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected, got = hf(idx).logits, ours(idx)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_cached_greedy_tokens_agree(llama):
    hf = hf_llama(False)
    ours = ours_from(llama, hf, False)
    prompt = torch.randint(0, 300, (2, 7), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected = hf.generate(prompt, max_new_tokens=30, do_sample=False, use_cache=True,
                               attention_mask=torch.ones_like(prompt))
    assert torch.equal(llama.generate_greedy(ours, prompt, 30, use_cache=True), expected)
    assert torch.equal(llama.generate_greedy(ours, prompt, 30, use_cache=False), expected)


def test_meta_layout_with_interleaved_rope_equals_hf(llama):
    """Un-permuting HF's q/k rows gives Meta's layout; with interleaved RoPE it computes the
    same logits, and permute_qk maps it back exactly."""
    hf = hf_llama(False)
    ours = ours_from(llama, hf, False)
    meta = llama.Llama(llama.LlamaConfig(**{**ours.config.__dict__, "rope_interleaved": True})).eval()
    state = dict(ours.state_dict())
    for name, w in list(state.items()):
        if name.endswith(("q_proj.weight", "k_proj.weight")):
            heads = 4 if "q_proj" in name else 2
            rows, cols = w.shape
            meta_w = w.reshape(heads, 2, rows // heads // 2, cols).transpose(1, 2).reshape(rows, cols)
            assert torch.equal(llama.permute_qk(meta_w, heads), w)
            state[name] = meta_w
    meta.load_state_dict(state)
    idx = torch.randint(0, 300, (2, 20), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        torch.testing.assert_close(meta(idx), hf(idx).logits, rtol=1e-5, atol=1e-5)


@pytest.fixture(scope="module")
def mixtral_block():
    from transformers.models.mixtral import modeling_mixtral
    torch.manual_seed(0)
    config = transformers.MixtralConfig(hidden_size=32, intermediate_size=48, num_local_experts=6,
                                        num_experts_per_tok=2, router_jitter_noise=0.0)
    block = modeling_mixtral.MixtralSparseMoeBlock(config).eval()
    with torch.no_grad():
        for p in block.parameters():
            p.normal_(0, 0.2)
        block.gate.weight.mul_(5)               # decisive routing
    return modeling_mixtral, block


def test_mixtral_moe_block_agrees(llama, mixtral_block):
    _, block = mixtral_block
    ours = llama.MoE(32, 48, 6, 2).eval()
    with torch.no_grad():
        ours.router.weight.copy_(block.gate.weight)
        ours.gate_proj.copy_(block.experts.gate_up_proj[:, :48])
        ours.up_proj.copy_(block.experts.gate_up_proj[:, 48:])
        ours.down_proj.copy_(block.experts.down_proj)
    x = torch.randn(3, 10, 32, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        expected = block(x)
        hf_logits, hf_weights, hf_experts = block.gate(x)
        got, logits = ours(x)
        weights, experts = llama.route(logits, 2)
        batched, _ = llama.moe_forward_batched(ours, x)
    torch.testing.assert_close(logits, hf_logits, rtol=1e-6, atol=1e-6)
    assert torch.equal(experts, hf_experts)
    torch.testing.assert_close(weights, hf_weights, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(batched, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("scale", [0.0, 1.0, 30.0])       # uniform, ordinary, collapsing
def test_mixtral_load_balancing_loss_agrees(llama, mixtral_block, scale):
    modeling_mixtral, _ = mixtral_block
    gen = torch.Generator().manual_seed(5)
    layers = [torch.randn(20, 8, generator=gen) * scale for _ in range(3)]
    if scale == 30.0:
        for logits in layers:
            logits[:, 2] += 200.0                            # every token to expert 2 first
    expected = modeling_mixtral.load_balancing_loss_func(tuple(layers), num_experts=8, top_k=2)
    got = llama.load_balancing_loss(layers, 2, "mixtral")
    torch.testing.assert_close(got, expected.to(got.dtype), rtol=1e-5, atol=1e-6)
    if scale == 0.0:
        assert abs(float(got) - 2.0) < 1e-6 and abs(float(llama.load_balancing_loss(layers, 2, "switch")) - 1.0) < 1e-6


# ----------------------------------------------------------------------------- outside styles
META_AND_HF_ROPE = '''    compute = torch.promote_types(x.dtype, torch.float32)
    freqs = rope_frequencies(x.shape[-1], theta, compute).to(x.device)
    angles = positions.to(compute)[:, None] * freqs                     # (T, D/2)
    if interleaved:                                  # Meta: pairs as complex numbers
        freqs_cis = torch.polar(torch.ones_like(angles), angles)
        x_ = torch.view_as_complex(x.to(compute).reshape(*x.shape[:-1], -1, 2).contiguous())
        return torch.view_as_real(x_ * freqs_cis).flatten(-2).to(x.dtype)
    emb = torch.cat((angles, angles), dim=-1)        # Hugging Face: rotate_half
    cos, sin = emb.cos(), emb.sin()
    h = x.to(compute)
    x1, x2 = h[..., : h.shape[-1] // 2], h[..., h.shape[-1] // 2:]
    return (h * cos + torch.cat((-x2, x1), dim=-1) * sin).to(x.dtype)
'''
HF_REPEAT_KV = '''        n_rep = self.n_heads // self.n_kv_heads
        k = k.repeat_interleave(n_rep, dim=1)                           # HF's repeat_kv
        v = v.repeat_interleave(n_rep, dim=1)
'''
MIXTRAL_LOOP = '''        n_experts = self.gate_proj.shape[0]
        mask = F.one_hot(experts, num_classes=n_experts).permute(2, 1, 0)     # (E, k, N), as Mixtral
        for e in torch.greater(mask.sum(dim=(-1, -2)), 0).nonzero():
            e = int(e[0])
            slot, token = torch.where(mask[e])
            out.index_add_(0, token, self.expert(e, flat[token]) * weights[token, slot, None])
        return out.reshape(x.shape), logits
'''


def replace_solution(text: str, after: str, body: str) -> str:
    """``text`` with the SOLUTION block following ``after`` replaced by ``body``."""
    start = text.index("### BEGIN SOLUTION\n", text.index(after)) + len("### BEGIN SOLUTION\n")
    return text[:start] + body + text[text.index("        ### END SOLUTION" if body.startswith("        ") else
                                                 "    ### END SOLUTION", start):]


@pytest.mark.slow
def test_outside_styles_get_full_marks(grade, tmp_path):
    text = REFERENCE.read_text()
    text = replace_solution(text, "def apply_rope(", META_AND_HF_ROPE)
    old = "        n_rep = self.n_heads // self.n_kv_heads\n        k, v = repeat_kv(k, n_rep), repeat_kv(v, n_rep)                # (B, H, T_k, D)\n"
    assert text.count(old) == 1
    text = text.replace(old, HF_REPEAT_KV)
    text = replace_solution(text, "    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:", MIXTRAL_LOOP)
    (tmp_path / "llama.py").write_text(text)
    tasks = ["rope", "attention", "moe", "model"]
    doc = grade("a06_llama_moe", tmp_path, tasks=tasks)
    failed = [t["name"] + ": " + t["output"][:300] for t in doc["tests"] if t["status"] != "passed"]
    assert not failed, failed
    for task in tasks:
        got = doc["extra_data"]["tasks"][task]
        assert got["score"] == got["max_score"], task
