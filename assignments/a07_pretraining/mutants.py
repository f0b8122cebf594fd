"""Mutants of reference/a07_pretraining/pretrain.py: the mistakes students make training a GPT.

The first two are cheap to grade on every task (the notebook-equals-py test applies them):
keep them first.
"""

from autograder.grade.mutant import Mutant

M = Mutant
MUTANTS = [
    # threshold: the configuration the grader sends is overridden by the defaults (merge order)
    M("config_merge_reversed", "threshold", (("cfg = {**TRAIN_DEFAULTS, **train_config}",
                                              "cfg = {**train_config, **TRAIN_DEFAULTS}"),), "the band is"),
    # cross-entropy
    M("ce_no_max_subtraction", "cross_entropy",
      (("    log_norm = m.squeeze(-1) + torch.log(torch.exp(logits - m).sum(dim=-1))",
        "    log_norm = torch.log(torch.exp(logits).sum(dim=-1))"),), "NaN or inf"),
    M("ce_ignored_in_denominator", "cross_entropy",
      (("    keep = targets != ignore_index\n    logits, targets = logits[keep], targets[keep]",
        "    keep = targets != ignore_index\n    n = targets.numel()\n    logits, targets = logits[keep], targets[keep]"),
       ("    return (log_norm - picked).mean()", "    return (log_norm - picked).sum() / n")), "denominator"),
    M("ce_max_not_added_back", "cross_entropy",
      (("    log_norm = m.squeeze(-1) + torch.log(torch.exp(logits - m).sum(dim=-1))",
        "    log_norm = torch.log(torch.exp(logits - m).sum(dim=-1))"),)),
    M("ce_ignore_index_hardcoded", "cross_entropy", (("    keep = targets != ignore_index", "    keep = targets != -100"),)),
    # data
    M("batch_not_shifted", "data", (("    y = ids[starts[:, None] + offsets + 1]", "    y = ids[starts[:, None] + offsets]"),),
      "shifted by one"),
    M("batch_last_start_never_drawn", "data",
      (("    starts = torch.randint(len(ids) - context_length, (batch_size,), generator=generator)",
        "    starts = torch.randint(len(ids) - context_length - 1, (batch_size,), generator=generator)"),), "never drawn"),
    M("split_val_first", "data", (("    return ids[:len(ids) - n_val], ids[len(ids) - n_val:]",
                                   "    return ids[n_val:], ids[:n_val]"),), "FIRST"),
    # AdamW
    M("adamw_eps_inside_sqrt", "adamw", (("p.sub_(lr * m_hat / (v_hat.sqrt() + eps))", "p.sub_(lr * m_hat / (v_hat + eps).sqrt())"),),
      "inside the square root"),
    M("adamw_decay_on_gradient", "adamw", (("                g = p.grad\n", "                g = p.grad + wd * p\n"),
                                           ("                p.mul_(1 - lr * wd)\n", "")), "L2"),
    M("adamw_decay_after_update", "adamw", (("                p.mul_(1 - lr * wd)\n", ""),
                                            ("p.sub_(lr * m_hat / (v_hat.sqrt() + eps))",
                                             "p.sub_(lr * m_hat / (v_hat.sqrt() + eps))\n                p.mul_(1 - lr * wd)")),
      "after the Adam update"),
    M("adamw_no_bias_correction", "adamw", (("m_hat = state[\"m\"] / (1 - beta1 ** t)", "m_hat = state[\"m\"]"),
                                            ("v_hat = state[\"v\"] / (1 - beta2 ** t)", "v_hat = state[\"v\"]")),
      "bias correction"),
    # clipping
    M("clip_per_parameter", "clipping",
      (("    total = torch.sqrt(sum((g.detach() ** 2).sum() for g in grads))\n    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)\n    for g in grads:\n        g.mul_(coef)",
        "    total = torch.sqrt(sum((g.detach() ** 2).sum() for g in grads))\n    for g in grads:\n        g.mul_(torch.clamp(max_norm / (g.norm() + 1e-6), max=1.0))"),),
      "its own norm"),
    M("clip_scales_up", "clipping", (("    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)", "    coef = max_norm / (total + 1e-6)"),),
      "scaled up"),
    M("clip_returns_clipped_norm", "clipping", (("    return total\n    ### END SOLUTION\n\n\n# %% [markdown]\n# ## 5.",
                                                 "    return torch.clamp(total, max=max_norm)\n    ### END SOLUTION\n\n\n# %% [markdown]\n# ## 5."),),
      "after clipping"),
    # schedule
    M("warmup_off_by_one", "schedule", (("        return max_lr * step / warmup_steps", "        return max_lr * (step + 1) / warmup_steps"),),
      "off by one"),
    M("cosine_over_total", "schedule", (("    progress = (step - warmup_steps) / max(total_steps - warmup_steps, 1)",
                                         "    progress = step / total_steps"),), "over total_steps"),
    # training
    M("no_zero_grad", "training", (("    optimizer.zero_grad(set_to_none=True)\n    loss = cross_entropy(model(x), y)\n",
                                    "    loss = cross_entropy(model(x), y)\n"),), "zero_grad"),
    M("clip_after_step", "training", (("        clip_grad_norm(model.parameters(), max_norm)\n    optimizer.step()",
                                       "        pass\n    optimizer.step()\n    if max_norm is not None:\n        clip_grad_norm(model.parameters(), max_norm)"),),
      "after optimizer.step()"),
    M("no_backward", "training", (("    loss.backward()\n    if max_norm is not None:", "    if max_norm is not None:"),),
      "5% of the first"),
    M("eval_leaves_eval_mode", "training", (("    model.train(was_training)\n", ""),), "eval mode"),
    # checkpoint
    M("resume_forgets_optimizer", "checkpoint", (("    optimizer.load_state_dict(ckpt[\"optimizer\"])\n", ""),), "optimizer's state"),
    M("resume_forgets_data_position", "checkpoint", (("    generator.set_state(ckpt[\"generator\"])\n", ""),), "generator's state"),
    M("resume_restarts_schedule", "checkpoint", (("    return ckpt[\"step\"], ckpt[\"curve\"]", "    return 0, ckpt[\"curve\"]"),)),
    # threshold: the band
    M("no_causal_mask", "threshold", (("from gpt import GPT, GPTConfig, init_weights\n",
                                       ("import gpt as _gpt\nfrom gpt import GPT, GPTConfig, init_weights\n\n"
                                       "_gpt.causal_mask = lambda t_q, t_k=None, device=None: torch.ones(t_q, t_k or t_q, "
                                       "dtype=torch.bool, device=device)   # the student's attention has no mask\n")),),
      "causal mask"),
    M("bigram_only_windows_of_one", "threshold",
      (("        x, y = get_batch(train_ids, cfg[\"batch_size\"], t, device, data_gen)",
        "        x, y = get_batch(train_ids, cfg[\"batch_size\"], 1, device, data_gen)"),), "bigram"),
    M("no_optimizer_step", "threshold", (("    optimizer.step()\n    return loss.item()", "    return loss.item()"),),
      "untrained"),
    # questions
    M("questions_wrong", "questions", (("    return math.log(vocab_size)", "    return math.log2(vocab_size)"),
                                       ('    return "b"', '    return "a"'), ('    return "c"', '    return "a"')), "q1"),
    # hardmode: gradient accumulation
    M("accumulation_not_divided", "grad_accumulation",
      (("        loss = cross_entropy(model(xs), ys) / micro_batches", "        loss = cross_entropy(model(xs), ys)"),),
      "divide each micro-batch", variant="hardmode"),
    M("accumulation_stale_grads", "grad_accumulation", (("    model.zero_grad(set_to_none=True)\n    total = 0.0", "    total = 0.0"),),
      "stale gradients", variant="hardmode"),
]
