"""Mutants of reference/a10_evaluation/evaluation.py: the mistakes made evaluating language models."""

from autograder.grade.mutant import Mutant

M = Mutant
MUTANTS = [
    # token log-likelihoods
    M("ll_targets_unshifted", "log_likelihood", (("return logp.gather(-1, idx[:, 1:, None]).squeeze(-1)",
                                                  "return logp.gather(-1, idx[:, :-1, None]).squeeze(-1)"),),
      "not shifted"),
    M("ll_log_of_softmax", "log_likelihood", (("logp = torch.log_softmax(logits[:, :-1], dim=-1)",
                                               "logp = torch.log(torch.softmax(logits[:, :-1], dim=-1))"),),
      "use torch.log_softmax"),
    # perplexity
    M("ppl_mask_unshifted", "perplexity", (("scored = attention_mask[:, 1:].bool()", "scored = attention_mask[:, :-1].bool()"),),
      "not shifted"),
    M("ppl_padding_averaged_in", "perplexity", (("scored = attention_mask[:, 1:].bool()",
                                                 "scored = torch.ones_like(attention_mask[:, 1:]).bool()"),),
      "padding is counted"),
    M("ppl_exp_of_the_sum", "perplexity", (("return torch.exp(nll_sum / n_tokens)", "return torch.exp(nll_sum)"),),
      "divide by the number of tokens"),
    M("window_double_counts", "perplexity", (("new = logp[scored_to - start - 1:]", "new = logp"),),
      "scored again"),
    M("window_scores_last_stride_only", "perplexity", (("new = logp[scored_to - start - 1:]", "new = logp[-stride:]"),),
      "skipped"),
    M("window_stride_unchecked", "perplexity", (("    if not 1 <= stride < window or n < 2:",
                                                 "    if n < 2:"),), "must raise ValueError"),
    M("window_stride_equal_to_window_allowed", "perplexity", (("    if not 1 <= stride < window or n < 2:",
                                                               "    if not 1 <= stride <= window or n < 2:"),),
      "must raise ValueError"),
    # multiple choice
    M("mc_leading_space_dropped", "multiple_choice", (('[tokenizer.encode(" " + ending) for ending in endings]',
                                                       "[tokenizer.encode(ending) for ending in endings]"),),
      "leading space"),
    M("mc_mask_unshifted", "multiple_choice", (("    scored = mask[:, 1:]\n    return torch.where",
                                                "    scored = mask[:, :-1]\n    return torch.where"),), "not shifted"),
    M("mc_padding_scored", "multiple_choice", (("mask[i, len(ctx_ids):len(row)] = True", "mask[i, len(ctx_ids):] = True"),),
      "padding is scored"),
    M("mc_context_scored", "multiple_choice", (("mask[i, len(ctx_ids):len(row)] = True", "mask[i, :len(row)] = True"),),
      "context is scored"),
    M("mc_one_row_at_a_time", "multiple_choice",
      (("logp = token_logprobs(model(idx), idx)               # (E, T - 1): entry t scores token t + 1",
        "logp = torch.cat([token_logprobs(model(row[None]), row[None]) for row in idx])"),), "one call"),
    # accuracy
    M("acc_argmax_of_the_loss", "accuracy", (('return {"acc": sum_logprobs.argmax(-1)', 'return {"acc": sum_logprobs.argmin(-1)'),),
      "least likely"),
    M("acc_norm_tokens_by_chars", "accuracy", (('"acc_norm_tokens": (sum_logprobs / n_tokens).argmax(-1)',
                                                '"acc_norm_tokens": (sum_logprobs / n_chars).argmax(-1)'),),
      "gives the picks of"),
    M("acc_chars_count_the_space", "accuracy", (("torch.tensor([len(ending) for ending in item[\"endings\"]])",
                                                 "torch.tensor([len(\" \" + ending) for ending in item[\"endings\"]])"),),
      "leading space is counted"),
    # KL
    M("kl_direction_swapped", "kl", (("return (logp.exp() * (logp - logq)).sum(-1)", "return (logq.exp() * (logq - logp)).sum(-1)"),),
      "direction is swapped"),
    M("kl_probabilities_then_log", "kl", (("    logp = torch.log_softmax(logits_p, dim=-1)\n    logq = torch.log_softmax(logits_q, dim=-1)",
                                           "    logp = torch.softmax(logits_p, dim=-1).log()\n    logq = torch.softmax(logits_q, dim=-1).log()"),),
      "stay in log space"),
    M("kl_mean_reduction", "kl", (("        return kl.mean()\n",
                                   ("        return F.kl_div(torch.log_softmax(logits_q, -1), torch.log_softmax(logits_p, -1), "
                                   "reduction=\"mean\", log_target=True)\n")),), "batchmean"),
    M("kl_padding_averaged_in", "kl", (("return kl[mask.bool()].mean()", "return (kl * mask).mean()"),), "averaged in"),
    # conceptual questions (standard)
    M("questions_common_slips", "questions", (("return 50257.0", "return 10.825"), ("return (0, 1)", "return (0, 0)"),
                                              ('return "lower"', 'return "unchanged"')), "q2"),
    # bootstrap (hardmode)
    M("bootstrap_without_replacement", "bootstrap",
      (("idx = torch.randint(0, n, (n_resamples, n), generator=generator)",
        "idx = torch.stack([torch.randperm(n, generator=generator) for _ in range(n_resamples)])"),),
      "with replacement", variant="hardmode"),
    M("bootstrap_one_sided_quantiles", "bootstrap", (("[(1 - confidence) / 2, (1 + confidence) / 2]", "[1 - confidence, confidence]"),),
      "quantiles", variant="hardmode"),
]
