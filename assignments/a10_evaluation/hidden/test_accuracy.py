"""Hidden tests, task accuracy: the three decision rules on scores built to separate them, and
evaluate on a Markov item set, where the true model must reach the known ceiling."""

import pytest
import torch

from autograder.grade import checks, draw

from .common import source

pytestmark = pytest.mark.task("accuracy")
RULES = ("acc", "acc_norm_tokens", "acc_norm_chars")


def scores(gen, n=40, e=4):
    """Summed log-likelihoods with token and character counts, redrawn until the three rules
    (and a rule's opposite) disagree on some item."""
    while True:
        n_tokens = torch.randint(1, 7, (n, e), generator=gen)
        n_chars = n_tokens * 3 + torch.randint(0, 12, (n, e), generator=gen)
        sums = -(n_tokens * (1 + draw.normal(gen, n, e).abs()))
        a, t, c = sums.argmax(-1), (sums / n_tokens).argmax(-1), (sums / n_chars).argmax(-1)
        if (a != t).any() and (t != c).any() and (a != c).any():
            return sums, n_tokens, n_chars


def test_choose_matches_reference(student, reference, gen):
    sums, n_tokens, n_chars = scores(gen)
    got, expected = student.choose(sums, n_tokens, n_chars), reference.choose(sums, n_tokens, n_chars)
    if not isinstance(got, dict) or sorted(got) != sorted(RULES):
        checks.fail(f"choose must return a dict with keys {list(RULES)}; got {checks.describe(got)}")
    for rule in RULES:
        pick = checks.tensor(got[rule], what=f"choose(...)[{rule!r}]", shape=(40,), dtype=torch.int64)
        if torch.equal(pick, expected[rule]):
            continue
        hint = ""
        if torch.equal(pick, sums.argmin(-1)) or torch.equal(pick, (sums / n_tokens).argmin(-1)) \
                or torch.equal(pick, (sums / n_chars).argmin(-1)):
            hint = "\nLikely mistake: this picks the least likely ending (the argmax of the loss): take the largest log-likelihood"
        for other, alt in (("acc_norm_tokens", sums / n_tokens), ("acc_norm_chars", sums / n_chars), ("acc", sums)):
            if other != rule and torch.equal(pick, alt.argmax(-1)):
                hint = f"\nLikely mistake: {rule!r} gives the picks of {other!r}: acc_norm_tokens divides by n_tokens, " \
                       "acc_norm_chars by n_chars"
        checks.fail(f"choose(...)[{rule!r}] differs from the reference on {int((pick != expected[rule]).sum())} of 40 "
                    f"items{hint}")


def reference_accuracies(ref, src, items, extra_chars=0):
    """The three accuracies of the true model, with ``extra_chars`` added to every n_chars."""
    model, sums, n_tokens, n_chars = src.true_model(), [], [], []
    for item in items:
        ctx_ids, endings_ids = ref.encode_item(src.tokenizer, item["ctx"], item["endings"])
        s, t = ref.score_endings(model, ctx_ids, endings_ids)
        sums.append(s)
        n_tokens.append(t)
        n_chars.append(torch.tensor([len(e) + extra_chars for e in item["endings"]]))
    labels = torch.tensor([item["label"] for item in items])
    picks = ref.choose(torch.stack(sums), torch.stack(n_tokens), torch.stack(n_chars))
    return {rule: (pick == labels).double().mean().item() for rule, pick in picks.items()}


def test_true_model_reaches_the_ceiling(student, reference_module, gen):
    src = source(reference_module, gen)
    for _ in range(100):              # items on which counting the leading space changes acc_norm_chars
        items = src.items(40, seed=draw.integer(gen, 0, 2**30))
        expected = reference_accuracies(reference_module, src, items)
        if reference_accuracies(reference_module, src, items, 1)["acc_norm_chars"] != expected["acc_norm_chars"]:
            break
    else:
        raise RuntimeError("no item set separates len(ending) from len(' ' + ending)")
    w = len(src.words)
    table = torch.full((2 * w, 2 * w), -1e9, dtype=torch.float64)
    table[:, w:] = src.log_transition.repeat(2, 1)
    got = student.evaluate_table(table, src.tokenizer.vocab, items)
    if not isinstance(got, dict) or not set(RULES) | {"n"} <= set(got):
        checks.fail(f"evaluate must return a dict with keys {list(RULES) + ['n']}; got {checks.describe(got)}")
    ceiling = src.ceiling(items)
    for rule in RULES:
        if not isinstance(got[rule], float) or abs(got[rule] - expected[rule]) > 1e-9:
            checks.fail(f"evaluate of the true Markov model on 40 items: {rule} is {checks.describe(got[rule])}; the "
                        f"chain's own accuracy (the ceiling) is {ceiling[rule]:.3f}"
                        + ("\nLikely mistake: the leading space is counted in n_chars: lm-evaluation-harness divides "
                           "by len(ending)" if rule == "acc_norm_chars" and isinstance(got[rule], float) and abs(
                               got[rule] - reference_accuracies(reference_module, src, items, 1)[rule]) < 1e-9 else ""))
    checks.equal(got["n"], 40, what="evaluate(...)['n']")
