"""Mutants of reference/a03_attention/attention.py: the mistakes students make."""

from autograder.grade.mutant import Mutant

M = Mutant
MUTANTS = [
    # softmax
    M("softmax_naive_exp", "softmax", (("e = torch.exp(x - m)", "e = torch.exp(x)"),), "exp overflows"),
    M("softmax_is_torch_softmax", "softmax",
      (("    m = x.amax(dim=dim, keepdim=True)\n", "    return torch.softmax(x, dim)\n"),), "NaN"),
    M("softmax_ignores_dim", "softmax",
      (("m = x.amax(dim=dim, keepdim=True)", "m = x.amax(dim=-1, keepdim=True)"),
       ("total = e.sum(dim=dim, keepdim=True)", "total = e.sum(dim=-1, keepdim=True)")), "`dim` argument is ignored"),
    M("softmax_upcasts", "softmax", (("e = torch.exp(x - m)", "e = torch.exp((x - m).double())"),), "dtype"),
    # scaled dot-product attention
    M("sdpa_no_scaling", "sdpa", (("scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])",
                                   "scores = q @ k.transpose(-2, -1)"),), "not scaled by 1/sqrt(D)"),
    M("sdpa_scale_by_d", "sdpa", (("/ math.sqrt(q.shape[-1])", "/ q.shape[-1]"),), "divided by D instead of sqrt(D)"),
    M("sdpa_softmax_over_queries", "sdpa", (("return softmax(scores, dim=-1)", "return softmax(scores, dim=-2)"),),
      "over the queries"),
    M("sdpa_inverted_mask", "sdpa", (("scores.masked_fill(~mask, float(\"-inf\"))",
                                      "scores.masked_fill(mask, float(\"-inf\"))"),), "inverted"),
    M("sdpa_masked_fill_zero", "sdpa", (("scores.masked_fill(~mask, float(\"-inf\"))", "scores.masked_fill(~mask, 0.0)"),),
      "set to 0 instead of -inf"),
    M("sdpa_dropout_on_output", "sdpa",
      (("        weights = F.dropout(weights, p=dropout_p, training=True)\n    return weights @ v",
        "        return F.dropout(weights @ v, p=dropout_p, training=True)\n    return weights @ v"),), "not entries of the output"),
    M("sdpa_dropout_not_rescaled", "sdpa",
      (("weights = F.dropout(weights, p=dropout_p, training=True)",
        "weights = weights * (torch.rand_like(weights) >= dropout_p)"),), "scaled by 1/(1-p)"),
    # masks
    M("causal_off_by_one", "masks", (("return j <= i + (t_k - t_q)", "return j <= i + (t_k - t_q) + 1"),), "off by one"),
    M("causal_no_offset", "masks", (("return j <= i + (t_k - t_q)", "return j <= i"),), "offset t_k - t_q is missing"),
    M("padding_inverted", "masks", (("(positions.unsqueeze(0) < lengths.unsqueeze(1))",
                                     "(positions.unsqueeze(0) >= lengths.unsqueeze(1))"),), "inverted"),
    # self-attention
    M("self_attention_value_is_x", "self_attention",
      (("scaled_dot_product_attention(self.q_proj(x), self.k_proj(x), self.v_proj(x), mask)",
        "scaled_dot_product_attention(self.q_proj(x), self.k_proj(x), x, mask)"),)),
    # multi-head attention
    M("split_heads_wrong_order", "mha", (("return x.view(b, t, n_heads, d_model // n_heads).transpose(1, 2)",
                                          "return x.reshape(b, n_heads, t, d_model // n_heads)"),), "wrong order"),
    M("merge_heads_no_transpose", "mha", (("return x.transpose(1, 2).reshape(b, t, h * d)",
                                           "return x.reshape(b, t, h * d)"),), "without transposing back"),
    M("mha_no_out_proj", "mha",
      (("            k, v = cache.append(k, v)                   # (B, H, T_k, D)\n"
        "        out = scaled_dot_product_attention(q, k, v, mask, self.dropout if self.training else 0.0)\n"
        "        return self.out_proj(merge_heads(out))",
        "            k, v = cache.append(k, v)                   # (B, H, T_k, D)\n"
        "        out = scaled_dot_product_attention(q, k, v, mask, self.dropout if self.training else 0.0)\n"
        "        return merge_heads(out)"),), "out_proj is not applied"),
    M("mha_dropout_in_eval", "mha",
      (("        out = scaled_dot_product_attention(q, k, v, mask, self.dropout if self.training else 0.0)\n"
        "        return self.out_proj(merge_heads(out))\n        ### END SOLUTION\n\n\n# %% [markdown]\n# ## 6.",
        "        out = scaled_dot_product_attention(q, k, v, mask, self.dropout)\n"
        "        return self.out_proj(merge_heads(out))\n        ### END SOLUTION\n\n\n# %% [markdown]\n# ## 6."),),
      "deterministic"),
    # KV cache
    M("cache_wrong_axis", "kv_cache", (("torch.cat([self.k, k], dim=2)", "torch.cat([self.k, k], dim=1)"),
                                       ("torch.cat([self.v, v], dim=2)", "torch.cat([self.v, v], dim=1)"))),
    M("incremental_without_mask", "kv_cache",
      (("        outputs.append(attn(x_new, mask, cache))", "        outputs.append(attn(x_new, None, cache))"),),
      "differs from the full causal forward"),
    M("incremental_fresh_cache_each_step", "kv_cache",
      (("        outputs.append(attn(x_new, mask, cache))",
        "        outputs.append(attn(x_new, causal_mask(t_new, device=x.device), KVCache()))"),)),
    # grouped-query attention
    M("repeat_kv_tiles", "gqa", (("return x[:, :, None].expand(b, h_kv, n_rep, t, d).reshape(b, h_kv * n_rep, t, d)",
                                  "return x.repeat(1, n_rep, 1, 1)"),), "tiled"),
    M("gqa_no_out_proj", "gqa",
      (("        k, v = repeat_kv(k, n_rep), repeat_kv(v, n_rep)     # (B, H, T_k, D)\n"
        "        out = scaled_dot_product_attention(q, k, v, mask, self.dropout if self.training else 0.0)\n"
        "        return self.out_proj(merge_heads(out))",
        "        k, v = repeat_kv(k, n_rep), repeat_kv(v, n_rep)     # (B, H, T_k, D)\n"
        "        out = scaled_dot_product_attention(q, k, v, mask, self.dropout if self.training else 0.0)\n"
        "        return merge_heads(out)"),)),
    # conceptual questions (standard)
    M("questions_common_slips", "questions",
      (("return (2, 8, 10, 16)", "return (2, 8, 10, 10)"), ("return 4 * (512 * 512 + 512)", "return 4 * 512 * 512"),
       ("return 2 * 1024 * 12 * 12 * 64 * 2", "return 1024 * 12 * 12 * 64 * 2"), ("return 8 / 32", "return 32 / 8")),
      "keys and values"),
    # advanced build (hardmode)
    M("gqa_caches_repeated_heads", "gqa_kv_cache",
      (("        if cache is not None:\n            k, v = cache.append(k, v)                       # (B, H_kv, T_k, D)\n",
        ""),
       ("        k, v = repeat_kv(k, n_rep), repeat_kv(v, n_rep)     # (B, H, T_k, D)\n",
        "        k, v = repeat_kv(k, n_rep), repeat_kv(v, n_rep)     # (B, H, T_k, D)\n"
        "        if cache is not None:\n            k, v = cache.append(k, v)\n")),
      "before repeat_kv", variant="hardmode"),
    M("kv_cache_bytes_keys_only", "gqa_kv_cache",
      (("return 2 * batch * seq_len * n_layers * n_kv_heads * d_head * bytes_per_element",
        "return batch * seq_len * n_layers * n_kv_heads * d_head * bytes_per_element"),),
      "keys and values", variant="hardmode"),
]
