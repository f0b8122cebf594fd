"""Mutants of reference/a06_llama_moe/llama.py: the mistakes students make building Llama
and a mixture of experts (anchors: RMSNorm eps and upcast, RoPE pairing, exponent and
layout, GQA head mapping, routing and balance-loss conventions)."""

from autograder.grade.mutant import Mutant

M = Mutant
RMS = "h = h * torch.rsqrt(h.pow(2).mean(dim=-1, keepdim=True) + self.eps)"
COMBINE = "out.index_add_(0, token, self.expert(e, flat[token]) * weights[token, slot, None])"
BALANCE = "return n_experts * (fraction * probs.mean(dim=0)).sum()"
MUTANTS = [
    # RMSNorm
    M("rms_eps_outside_sqrt", "rms_norm", ((RMS, "h = h / (h.pow(2).mean(dim=-1, keepdim=True).sqrt() + self.eps)"),),
      "outside the square root"),
    M("rms_no_upcast", "rms_norm", (("h = x.to(torch.promote_types(x.dtype, torch.float32))", "h = x"),), "overflow"),
    M("rms_downcasts_float64", "rms_norm", (("h = x.to(torch.promote_types(x.dtype, torch.float32))",
                                             "h = x.to(torch.float32)"),), "never downcast"),
    M("rms_subtracts_mean", "rms_norm", ((RMS, ("h = (h - h.mean(dim=-1, keepdim=True)) * torch.rsqrt("
                                               "h.var(dim=-1, keepdim=True, unbiased=False) + self.eps)")),),
      "the mean is subtracted"),
    # RoPE
    M("rope_exponent_from_one", "rope", (("torch.arange(0, d_head, 2, dtype=dtype)", "torch.arange(2, d_head + 2, 2, dtype=dtype)"),),
      "j = 1"),
    M("rope_pairs_written_as_halves", "rope",
      (("out = torch.stack([a * cos - b * sin, a * sin + b * cos], dim=-1).flatten(-2)",
        "out = torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)"),), "written back as halves"),
    M("rope_conventions_swapped", "rope", (("    if interleaved:\n        a, b", "    if not interleaved:\n        a, b"),),
      "other convention"),
    M("rope_angles_in_input_dtype", "rope", (("compute = torch.promote_types(x.dtype, torch.float32)\n    angles",
                                              "compute = x.dtype\n    angles"),), "float16"),
    M("permute_qk_inverse", "rope", (("w.reshape(n_heads, rows // n_heads // 2, 2, cols)",
                                      "w.reshape(n_heads, 2, rows // n_heads // 2, cols)"),), "inverse permutation"),
    # SwiGLU
    M("hidden_dim_rounds_down", "swiglu", (("multiple_of * ((hidden + multiple_of - 1) // multiple_of)",
                                            "multiple_of * (hidden // multiple_of)"),), "rounded UP"),
    M("hidden_dim_ignores_multiplier", "swiglu", ((("    if ffn_dim_multiplier is not None:\n"
                                                   "        hidden = int(ffn_dim_multiplier * hidden)\n"), ""),)),
    M("swiglu_silu_on_up", "swiglu", (("return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))",
                                       "return self.down_proj(self.gate_proj(x) * F.silu(self.up_proj(x)))"),),
      "SiLU is applied to up_proj"),
    # attention
    M("gqa_repeat_tiles_heads", "attention", (("k, v = repeat_kv(k, n_rep), repeat_kv(v, n_rep)",
                                               "k, v = k.repeat(1, n_rep, 1, 1), v.repeat(1, n_rep, 1, 1)"),), "h % H_kv"),
    M("rope_positions_restart_with_cache", "attention", (("start = len(cache) if cache is not None else 0", "start = 0"),),
      "restart at 0"),
    M("attention_not_causal", "attention", (("causal_mask(q.shape[2], k.shape[2], device=x.device))",
                                             "None)"),), "not causal"),
    M("rope_on_values_too", "attention", (("        if cache is not None:\n            k, v = cache.append(k, v)",
                                           ("        v = apply_rope(v, positions, self.rope_theta, self.rope_interleaved)\n"
                                           "        if cache is not None:\n            k, v = cache.append(k, v)")),)),
    M("rope_ignores_interleaved_flag", "attention", ((("q = apply_rope(q, positions, self.rope_theta, self.rope_interleaved)\n"
                                                      "        k = apply_rope(k, positions, self.rope_theta, self.rope_interleaved)"),
                                                      ("q = apply_rope(q, positions, self.rope_theta)\n"
                                                      "        k = apply_rope(k, positions, self.rope_theta)")),),
      "wrong pairing"),
    # block
    M("block_post_norm", "block", ((("        x = x + self.self_attn(self.input_layernorm(x), cache)\n"
                                    "        return x + self.mlp(self.post_attention_layernorm(x))"),
                                    ("        x = self.input_layernorm(x + self.self_attn(x, cache))\n"
                                    "        return self.post_attention_layernorm(x + self.mlp(x))")),), "post-norm"),
    M("block_one_norm_twice", "block", (("return x + self.mlp(self.post_attention_layernorm(x))",
                                         "return x + self.mlp(self.input_layernorm(x))"),), "input_layernorm is used"),
    # model
    M("model_always_tied", "model", (("        if config.tie_embeddings:\n            self.lm_head.weight",
                                      "        if True:\n            self.lm_head.weight"),), "tie_embeddings=False"),
    M("model_never_tied", "model", (("        if config.tie_embeddings:\n            self.lm_head.weight",
                                     "        if False:\n            self.lm_head.weight"),), "tie_embeddings=True"),
    M("model_no_final_norm", "model", (("return self.lm_head(self.norm(x))", "return self.lm_head(x)"),)),
    M("model_one_cache_for_all_layers", "model", (("x = layer(x, caches[i] if caches else None)",
                                                   "x = layer(x, caches[0] if caches else None)"),)),
    M("model_no_context_check", "model", (("            raise ValueError(f\"{start + idx.shape[1]} positions exceed",
                                           "            pass  # (f\"{start + idx.shape[1]} positions exceed"),),
      "must raise ValueError"),
    M("count_tied_twice", "model", (("return sum(p.numel() for p in model.parameters())",
                                     "return sum(p.numel() for p in model.state_dict().values())"),), "count_parameters"),
    M("generate_cache_refed_the_sequence", "model", (("logits = model(next_id, caches) if use_cache else model(idx)",
                                                      ("logits = model(idx, [KVCache() for _ in model.layers]) if use_cache "
                                                      "else model(idx)")),), "lengths"),
    # router
    M("route_never_renormalizes", "router", (("    if renormalize:\n        weights = weights / weights.sum",
                                              "    if False:\n        weights = weights / weights.sum"),),
      "not renormalized"),
    M("route_always_renormalizes", "router", (("    if renormalize:\n        weights = weights / weights.sum",
                                               "    if True:\n        weights = weights / weights.sum"),),
      "renormalize=False keeps"),
    M("route_softmax_over_tokens", "router", (("probs = torch.softmax(logits.to(torch.promote_types(logits.dtype, torch.float32)), dim=-1)",
                                               "probs = torch.softmax(logits.to(torch.promote_types(logits.dtype, torch.float32)), dim=0)"),),
      "over the tokens"),
    M("route_weights_float32", "router", (("return weights.to(logits.dtype), experts", "return weights, experts"),), "dtype"),
    # MoE
    M("moe_unweighted_sum", "moe", ((COMBINE, "out.index_add_(0, token, self.expert(e, flat[token]))"),)),
    M("moe_dense_soft_mixture", "moe", (("            if token.numel():\n                " + COMBINE,
                                         "            out += self.expert(e, flat) * torch.softmax(logits, -1)[:, e, None]"),),
      "mixed densely"),
    M("moe_weights_detached", "moe", ((COMBINE, ("out.index_add_(0, token, self.expert(e, flat[token]) * "
                                                "weights[token, slot, None].detach())")),), "no gradient"),
    M("moe_active_without_router", "moe", (("return n_experts * per_expert + router, top_k * per_expert + router",
                                            "return n_experts * per_expert + router, top_k * per_expert"),), "router"),
    # balance and z-losses
    M("balance_fraction_divided_by_k", "balance_loss", (("to(probs.dtype).sum(dim=1).mean(dim=0)",
                                                         "to(probs.dtype).mean(dim=1).mean(dim=0)"),), "divided by k"),
    M("balance_p_from_topk_weights", "balance_loss",
      ((BALANCE, ("w = probs.gather(-1, chosen)\n    renorm = torch.zeros_like(probs).scatter(-1, chosen, w / w.sum(-1, keepdim=True))\n"
                 "    return n_experts * (fraction * renorm.mean(dim=0)).sum()")),), "renormalized top-k weights"),
    M("balance_soft_fraction", "balance_loss", ((BALANCE, "return n_experts * (probs.mean(dim=0) ** 2).sum()"),),
      "soft probabilities"),
    M("balance_missing_e", "balance_loss", ((BALANCE, "return (fraction * probs.mean(dim=0)).sum()"),), "factor E"),
    M("balance_logits_for_p", "balance_loss", ((BALANCE, "return n_experts * (fraction * logits.mean(dim=0)).sum()"),),
      "raw logits"),
    M("balance_switch_uses_top_k", "balance_loss", (("chosen = probs.argmax(dim=-1, keepdim=True)",
                                                     "chosen = torch.topk(probs, top_k, dim=-1).indices"),)),
    M("balance_unknown_kind_accepted", "balance_loss",
      (("        raise ValueError(f\"unknown balance loss {kind!r}: use 'mixtral' or 'switch'\")",
        "        chosen = probs.argmax(dim=-1, keepdim=True)"),), "must raise ValueError"),
    M("z_loss_naive_logsumexp", "balance_loss", (("return torch.logsumexp(router_logits, dim=-1).pow(2).mean()",
                                                  "return torch.log(torch.exp(router_logits).sum(dim=-1)).pow(2).mean()"),),
      "NaN or inf"),
    M("z_loss_summed", "balance_loss", (("return torch.logsumexp(router_logits, dim=-1).pow(2).mean()",
                                         "return torch.logsumexp(router_logits, dim=-1).pow(2).sum()"),), "is the mean"),
    # conceptual questions (standard)
    M("questions_common_slips", "questions", (("return 2 * 3 * 4096 * 14336", "return 8 * 3 * 4096 * 14336"),
                                              ("    return \"a\"\n", "    return \"b\"\n"),
                                              ("return 2.0, 1.0", "return 1.0, 1.0")), "q1"),
    # batched dispatch (hardmode)
    M("batched_moe_loops_over_experts", "batched_moe",
      (('    """Same result as ``moe(x)``, with no Python loop over experts or tokens."""',
        '    """Same result as ``moe(x)``, with no Python loop over experts or tokens."""\n    return moe(x)'),),
      "Python loop", variant="hardmode"),
    M("batched_moe_weights_not_sorted", "batched_moe", (("weights.reshape(-1)[order, None]", "weights.reshape(-1)[:, None]"),),
      variant="hardmode"),
]
