"""The threshold test's machinery, shared with tests/benchmarks/calibrate_a07.py: the run's
configuration from grading.toml's bars, the draws before training, the trusted evaluation
of returned weights in the reference GPT, and the student's reported curve as numbers."""

from __future__ import annotations

import torch

from autograder.grade import checks, draw

from . import source

HELD_OUT = 512          # held-out sequences of context_length + 1 tokens (16k scored targets on cpu)


def run_config(bars, device: str) -> tuple[dict, dict]:
    model = {"vocab_size": bars["vocab_size"], "context_length": bars["context_length"], "d_model": bars["d_model"],
             "n_layers": bars["n_layers"], "n_heads": bars["n_heads"], "dropout": 0.0}
    steps = bars["steps"]
    train = {"steps": steps, "batch_size": bars["batch_size"], "max_lr": bars["max_lr"], "min_lr": bars["max_lr"] / 10,
             "warmup_steps": steps // 10, "weight_decay": 0.1, "betas": [0.9, 0.95], "max_norm": 1.0,
             "eval_every": max(steps // 10, 1), "eval_batches": 4, "val_fraction": 0.1, "device": device}
    return model, train


def prepare(bars, device: str, gen) -> tuple[dict, dict, source.Source, torch.Tensor, int]:
    """Everything drawn before training: ``(model_config, train_config, source, ids, seed)``."""
    model_config, train_config = run_config(bars, device)
    src = source.make_source(bars["vocab_size"], bars["alpha"], gen)
    ids = source.sample_ids(src, int(bars["train_tokens"]), gen)
    return model_config, train_config, src, ids, draw.integer(gen, 0, 2**20)


def trusted_loss(ref, model_config: dict, state: dict, src: source.Source, gen, device: str) -> tuple[float, float]:
    """``(model loss, true-model loss)`` on fresh held-out sequences, scoring targets that have
    two tokens of context (so the true model's expected loss is exactly the entropy rate)."""
    model = ref.GPT(ref.GPTConfig(**model_config))
    full = dict(state, **{"lm_head.weight": state["wte.weight"]})
    model.load_state_dict(full, strict=True)
    model = model.to(device).eval()
    t = model_config["context_length"]
    held = source.sample_ids(src, HELD_OUT * (t + 1), gen).view(HELD_OUT, t + 1)
    with torch.no_grad():
        losses = []
        for chunk in held.split(128):
            logits = model(chunk[:, :-1].to(device)).double().cpu()
            logp = torch.log_softmax(logits[:, 1:], dim=-1)
            losses.append(-logp.gather(-1, chunk[:, 2:, None]).squeeze(-1))
    model_loss = float(torch.cat(losses).mean())
    true_loss = float(-src.table[held[:, :-2], held[:, 1:-1], held[:, 2:]].log().mean())
    return model_loss, true_loss


def check_weights(ref, model_config: dict, state) -> None:
    if not isinstance(state, dict):
        checks.fail(f"train should return (model, curve); the grader received {checks.describe(state)} as the weights")
    want = {k: v.shape for k, v in ref.GPT(ref.GPTConfig(**model_config)).state_dict().items() if k != "lm_head.weight"}
    missing, extra = sorted(set(want) - set(state)), sorted(set(state) - set(want))
    if missing or extra:
        checks.fail(f"the trained model's weights do not load into a04's GPT: missing {missing[:4]}, unexpected "
                    f"{extra[:4]}. The grader evaluates your weights in the reference GPT, so train must return a "
                    "GPT with a04's names (build it with build_model).")
    for k, shape in want.items():
        checks.tensor(state[k], what=f"trained weight {k}", shape=shape, dtype=torch.float32)


def reported(curve) -> list[dict]:
    """The student's curve as plain numbers (shown in feedback only)."""
    out = []
    if isinstance(curve, list):
        for point in curve:
            if isinstance(point, dict) and all(isinstance(point.get(k), (int, float)) for k in ("step", "val_loss")):
                out.append({"step": int(point["step"]), "val_loss": float(point["val_loss"]),
                            **({"train_loss": float(point["train_loss"])}
                               if isinstance(point.get("train_loss"), (int, float)) else {})})
    return out
