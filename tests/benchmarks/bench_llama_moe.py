"""Benchmark a06's reference: the MoE layer with batched dispatch (``moe_forward_batched``)
against its per-expert Python loop (``MoE.forward``), and the reference Llama's
forward+backward against Hugging Face transformers' LlamaForCausalLM on the same config,
weights and inputs. Prints times and ratios.

    .venv/bin/python tests/benchmarks/bench_llama_moe.py [--threads 2] [--device cpu|cuda]
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

from autograder.harness import local


def median_time(fn, repeats: int, device: str) -> float:
    fn()                                                   # warm up
    times = []
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_moe(llama, device: str, repeats: int) -> None:
    print("MoE layer forward, d=256, hidden=512, top-2, 2048 tokens")
    for n_experts in (8, 64):
        torch.manual_seed(0)
        moe = llama.MoE(256, 512, n_experts, 2).to(device).eval()
        x = torch.randn(4, 512, 256, device=device)
        with torch.no_grad():
            loop, batched = llama.MoE.forward(moe, x)[0], llama.moe_forward_batched(moe, x)[0]
            assert torch.allclose(loop, batched, atol=1e-4), "batched dispatch disagrees with the loop"
            t_loop = median_time(lambda moe=moe, x=x: moe(x), repeats, device)
            t_batched = median_time(lambda moe=moe, x=x: llama.moe_forward_batched(moe, x), repeats, device)
        print(f"  E={n_experts:3d}: per-expert loop {t_loop * 1e3:8.2f} ms, batched {t_batched * 1e3:8.2f} ms, "
              f"loop / batched = {t_loop / t_batched:.2f}")


def bench_llama(llama, device: str, repeats: int) -> None:
    import transformers
    torch.manual_seed(0)
    hf = transformers.LlamaForCausalLM(transformers.LlamaConfig(
        vocab_size=5000, hidden_size=256, intermediate_size=688, num_hidden_layers=4, num_attention_heads=8,
        num_key_value_heads=4, max_position_embeddings=512, rms_norm_eps=1e-5, tie_word_embeddings=False,
        bos_token_id=0, eos_token_id=0, attn_implementation="eager")).to(device)
    ours = llama.Llama(llama.LlamaConfig(vocab_size=5000, context_length=512, d_model=256, n_layers=4, n_heads=8,
                                         n_kv_heads=4, hidden_dim=688)).to(device)
    ours.load_state_dict({k.removeprefix("model."): v for k, v in hf.state_dict().items()})
    hf.train(), ours.train()
    idx = torch.randint(0, 5000, (4, 256), device=device)

    def step(model, logits_of):
        model.zero_grad(set_to_none=True)
        F.cross_entropy(logits_of(model).flatten(0, 1), idx.flatten()).backward()

    with torch.no_grad():
        diff = (ours(idx) - hf(idx).logits).abs().max().item()
    t_ours = median_time(lambda: step(ours, lambda m: m(idx)), repeats, device)
    t_hf = median_time(lambda: step(hf, lambda m: m(idx).logits), repeats, device)
    print(f"Llama forward+backward, d=256, 4 layers, 8 heads / 4 kv heads, B=4, T=256 (max |logit diff| {diff:.1e})")
    print(f"  reference {t_ours * 1e3:8.2f} ms, transformers (eager attention) {t_hf * 1e3:8.2f} ms, "
          f"reference / transformers = {t_ours / t_hf:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    llama = local.load_file("_bench_llama", ROOT / "reference" / "a06_llama_moe" / "llama.py")
    print(f"torch {torch.__version__}, device {args.device}, {args.threads} threads")
    bench_moe(llama, args.device, args.repeats)
    bench_llama(llama, args.device, args.repeats)


if __name__ == "__main__":
    main()
