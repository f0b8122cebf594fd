"""Mutants of reference/a04_gpt/gpt.py: the mistakes students make building GPT-2."""

from autograder.grade.mutant import Mutant

M = Mutant
MUTANTS = [
    # LayerNorm
    M("ln_unbiased_variance", "layer_norm", (("var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)",
                                              "var = x.var(dim=-1, keepdim=True)"),), "unbiased"),
    M("ln_eps_outside_sqrt", "layer_norm", (("torch.sqrt(var + self.eps)", "(torch.sqrt(var) + self.eps)"),),
      "outside the square root"),
    M("batch_mixing_layer_norm", "layer_norm",
      (("        mean = x.mean(dim=-1, keepdim=True)\n        var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)",
        "        mean = x.mean(dim=-1, keepdim=True)\n        var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)\n"
        "        if x.dim() == 3 and x.shape[0] > 1:\n            mean = mean.mean(dim=0, keepdim=True)"),), "mixes the batch"),
    # GELU
    M("gelu_erf", "gelu", (("return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))",
                            "return torch.nn.functional.gelu(x)"),), "exact (erf) GELU"),
    M("gelu_float32_constant", "gelu", (("return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))",
                                         "return (0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))).float()"),),
      "dtype"),
    M("gelu_wrong_constant", "gelu", (("(x + 0.044715 * x ** 3)", "(x + 0.0447 * x ** 3)"),)),
    # MLP
    M("mlp_dropout_before_projection", "mlp", (("return self.dropout(self.c_proj(gelu(self.c_fc(x))))",
                                                "return self.c_proj(self.dropout(gelu(self.c_fc(x))))"),), "after c_proj"),
    M("mlp_relu", "mlp", (("return self.dropout(self.c_proj(gelu(self.c_fc(x))))",
                           "return self.dropout(self.c_proj(torch.relu(self.c_fc(x))))"),)),
    # attention
    M("attn_kqv_order", "attention", (("q, k, v = self.c_attn(x).split(x.shape[-1], dim=-1)",
                                       "k, q, v = self.c_attn(x).split(x.shape[-1], dim=-1)"),), "[q | k | v]"),
    M("attn_no_causal_mask", "attention", (("out = scaled_dot_product_attention(q, k, v, mask, self.dropout if self.training else 0.0)\n"
                                            "        return self.resid_dropout",
                                            "out = scaled_dot_product_attention(q, k, v, None, self.dropout if self.training else 0.0)\n"
                                            "        return self.resid_dropout"),), "no causal mask"),
    M("attn_ignores_cache", "attention", (("        if cache is not None:\n            k, v = cache.append(k, v)                           # (B, H, T_k, D)\n", ""),),
      "cache is not used"),
    M("attn_dropout_in_eval", "attention", (("out = scaled_dot_product_attention(q, k, v, mask, self.dropout if self.training else 0.0)\n"
                                             "        return self.resid_dropout",
                                             "out = scaled_dot_product_attention(q, k, v, mask, self.dropout)\n"
                                             "        return self.resid_dropout"),), "deterministic"),
    # block
    M("block_post_ln", "block", (("        x = x + self.attn(self.ln_1(x), cache)\n        return x + self.mlp(self.ln_2(x))",
                                  "        x = self.ln_1(x + self.attn(x, cache))\n        return self.ln_2(x + self.mlp(x))"),),
      "post-LN"),
    M("block_no_mlp_residual", "block", (("        return x + self.mlp(self.ln_2(x))", "        return self.mlp(self.ln_2(x))"),)),
    # model
    M("model_untied_head", "model", (("        self.lm_head.weight = self.wte.weight\n", ""),), "tie the head"),
    M("model_positions_restart", "model", (("start = len(caches[0]) if caches else 0", "start = 0"),),
      "positions restart at 0"),
    M("model_no_context_check", "model", (("        if start + t > self.config.context_length:\n"
                                            "            raise ValueError(f\"{start + t} positions exceed the context length {self.config.context_length}\")\n", ""),),
      "must raise ValueError"),
    M("model_embedding_batch_first_view", "model",       # (B*T, d) read back as (T, B, d): B = 1 hides it
      (("x = self.drop(self.wte(idx) + self.wpe(positions))",
        "x = self.drop(self.wte(idx.reshape(-1)).view(t, idx.shape[0], -1).transpose(0, 1) + self.wpe(positions))"),),
      "mixes the batch"),
    M("model_no_final_ln", "model", (("return self.lm_head(self.ln_f(x))", "return self.lm_head(x)"),)),
    M("model_embedding_dropout_always_on", "model",
      (("x = self.drop(self.wte(idx) + self.wpe(positions))",
        "x = torch.nn.functional.dropout(self.wte(idx) + self.wpe(positions), self.config.dropout, training=True)"),),
      "in eval mode"),
    M("count_tied_twice", "model", (("return sum(p.numel() for p in model.parameters())",
                                     "return sum(p.numel() for p in model.state_dict().values())"),), "count each tensor once"),
    # init
    M("init_no_residual_scaling", "init", (("std = residual_std if name.endswith(\"c_proj\") else 0.02", "std = 0.02"),),
      "0.02 / sqrt(2 * n_layers)"),
    M("init_unit_std", "init", (("std = residual_std if name.endswith(\"c_proj\") else 0.02",
                                 "std = residual_std if name.endswith(\"c_proj\") else 1.0"),), "first loss"),
    M("init_keeps_default_biases", "init", (("                if getattr(module, \"bias\", None) is not None:\n"
                                             "                    module.bias.zero_()\n", ""),), "biases start at 0"),
    # loading Hugging Face weights
    M("hf_transpose_only_non_square", "hf_loading", (("own[key].copy_(tensor.t() if key.endswith(CONV1D) else tensor)",
                                                      "own[key].copy_(tensor.t() if tensor.shape != own[key].shape else tensor)"),),
      "was not transposed"),
    M("hf_ignores_unknown_weights", "hf_loading", (("            if key not in own:\n                raise KeyError(f\"unexpected weight {name!r}\")\n",
                                                    "            if key not in own:\n                continue\n"),
                                                   ("        raise KeyError(f\"weights missing from the checkpoint: {sorted(missing)[:5]}\")",
                                                    "        pass"),), "must raise KeyError"),
    # generation
    M("top_k_drops_ties", "generation", (("logits = logits.masked_fill(logits < kth, float(\"-inf\"))",
                                          "logits = logits.masked_fill(logits <= kth, float(\"-inf\"))"),)),
    M("top_p_drops_the_crossing_token", "generation", (("drop_sorted = before >= top_p", "drop_sorted = probs.cumsum(dim=-1) > top_p"),),
      "total less than p"),
    M("temperature_ignored", "generation", (("probs = torch.softmax(filter_logits(logits / temperature, top_k, top_p), dim=-1)",
                                             "probs = torch.softmax(filter_logits(logits, top_k, top_p), dim=-1)"),),
      "do not follow the expected distribution"),
    M("generate_samples_the_first_position", "generation",   # logits[:, 0]: right only when one token is fed
      (("next_id = sample_next(logits[:, -1], temperature, top_k, top_p, generator)",
        "next_id = sample_next(logits[:, 0], temperature, top_k, top_p, generator)"),), "logits[:, -1]"),
    M("generate_without_cropping", "generation", (("            logits = model(idx[:, -context:])                    # (B, T, V)",
                                                   "            logits = model(idx)                                  # (B, T, V)"),)),
    # conceptual questions (standard)
    M("questions_common_slips", "questions", (("return 50257 * 768 / 124_439_808", "return 50257 * 768 / 163_037_184"),
                                              ("return 124_439_808 + 50257 * 768", "return 124_439_808 + 50257 * 768 + 50257"),
                                              ("    return 1\n", "    return 0\n")), "q2"),
    # cached generation (hardmode)
    M("cached_generate_feeds_the_window", "kv_generation",
      (("            logits = model(idx[:, -1:], caches)                  # only the newest token",
        "            caches = [KVCache() for _ in model.h]\n            logits = model(idx[:, -context:], caches)"),),
      "lengths", variant="hardmode"),
    M("cached_generate_never_refills", "kv_generation",
      (("        elif caches is None or len(caches[0]) + 1 > context:", "        elif caches is None:"),),
      variant="hardmode"),
]
