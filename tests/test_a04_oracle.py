"""An outside oracle for a04's reference: Hugging Face transformers' GPT2LMHeadModel, built
from a small configuration with random weights (no download). After loading its state
dict, the reference gives the same logits to float32 precision, and the same greedy tokens
with the cache. transformers is a test dependency only, never a student one."""

from __future__ import annotations

import sys

import pytest
import torch

from autograder.harness import local
from tests.conftest import ROOT

transformers = pytest.importorskip("transformers")
CONFIG = {"vocab_size": 300, "context_length": 64, "d_model": 96, "n_layers": 3, "n_heads": 4, "dropout": 0.0}


@pytest.fixture(scope="module")
def models():
    sys.path.insert(0, str(ROOT / "reference" / "a03_attention"))
    try:
        gpt = local.load_file("_oracle_gpt", ROOT / "reference" / "a04_gpt" / "gpt.py")
    finally:
        sys.path.pop(0)
    torch.manual_seed(0)
    hf_config = transformers.GPT2Config(vocab_size=300, n_positions=64, n_embd=96, n_layer=3, n_head=4,
                                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=0, eos_token_id=0)
    hf = transformers.GPT2LMHeadModel(hf_config).eval()
    with torch.no_grad():                      # non-trivial LayerNorm and bias values
        for name, p in hf.named_parameters():
            if name.endswith("bias") or ".ln_" in name or "ln_f" in name:
                p.add_(0.1 * torch.randn_like(p))
    ours = gpt.GPT(gpt.GPTConfig(**CONFIG)).eval()
    gpt.load_hf_state_dict(ours, hf.state_dict())
    return gpt, ours, hf


def test_logits_agree_to_float32_precision(models):
    _, ours, hf = models
    idx = torch.randint(0, 300, (3, 40), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = hf(idx).logits
        got = ours(idx)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_cached_greedy_generation_agrees(models):
    gpt, ours, hf = models
    prompt = torch.randint(0, 300, (2, 7), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected = hf.generate(prompt, max_new_tokens=30, do_sample=False, use_cache=True, pad_token_id=0,
                               attention_mask=torch.ones_like(prompt))
    got = gpt.generate(ours, prompt, 30, temperature=0.0, use_cache=True)
    assert torch.equal(got, expected)
    assert torch.equal(gpt.generate(ours, prompt, 30, temperature=0.0, use_cache=False), expected)
