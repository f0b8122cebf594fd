"""Benchmark a04's reference GPT-2: generation with and without the KV cache, and
forward+backward throughput against Hugging Face transformers' GPT-2 on the same config,
weights and inputs.

    .venv/bin/python tests/benchmarks/bench_gpt.py [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "reference" / "a03_attention")]

from autograder.harness import local  # noqa: E402

CONFIG = {"vocab_size": 5000, "context_length": 512, "d_model": 256, "n_layers": 4, "n_heads": 4, "dropout": 0.0}


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--new-tokens", type=int, default=256)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import transformers
    gpt = local.load_file("_bench_gpt", ROOT / "reference" / "a04_gpt" / "gpt.py")
    torch.manual_seed(0)
    hf = transformers.GPT2LMHeadModel(transformers.GPT2Config(
        vocab_size=5000, n_positions=512, n_embd=256, n_layer=4, n_head=4,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=0, eos_token_id=0))
    ours = gpt.GPT(gpt.GPTConfig(**CONFIG))
    gpt.load_hf_state_dict(ours, hf.state_dict())
    ours.eval(), hf.eval()

    prompt = torch.randint(0, 5000, (1, 16))
    n = args.new_tokens
    uncached = median_time(lambda: gpt.generate(ours, prompt, n, temperature=0.0), 3)
    cached = median_time(lambda: gpt.generate(ours, prompt, n, temperature=0.0, use_cache=True), 3)
    print(f"generate {n} tokens (d=256, 4 layers, greedy): without cache {uncached:.2f} s, with cache {cached:.2f} s "
          f"-> cache speed-up {uncached / cached:.1f}x")

    idx = torch.randint(0, 5000, (8, 256))

    def step(model, logits_of):
        model.zero_grad(set_to_none=True)
        logits = logits_of(idx)
        F.cross_entropy(logits[:, :-1].reshape(-1, 5000), idx[:, 1:].reshape(-1)).backward()

    ours.train(), hf.train()
    for model, fn in ((ours, ours), (hf, lambda x: hf(x).logits)):
        step(model, fn)                                # warm-up
    t_ours = median_time(lambda: step(ours, ours), 5)
    t_hf = median_time(lambda: step(hf, lambda x: hf(x).logits), 5)
    tokens = idx.numel()
    print(f"forward+backward, batch 8 x 256 tokens: reference {tokens / t_ours:,.0f} tokens/s, transformers "
          f"{tokens / t_hf:,.0f} tokens/s -> ratio (reference / transformers) {t_hf / t_ours:.2f}")


if __name__ == "__main__":
    main()
