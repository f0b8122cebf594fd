"""Hidden tests, task multiple_choice: endings encoded with their leading space, each scored by
its own tokens (the mask shifted), in one padded batch, whatever the pad id and order."""

import pytest
import torch

from autograder.grade import checks, draw

from .common import ATOL, RTOL, config, gpt_state, source, tokens

pytestmark = pytest.mark.task("multiple_choice")


def test_endings_are_encoded_with_a_leading_space(student, reference, reference_module, gen):
    src = source(reference_module, gen)
    item = src.items(1, seed=draw.integer(gen, 0, 2**30))[0]
    vocab = src.tokenizer.vocab
    got = student.encode_words(vocab, item["ctx"], item["endings"])
    expected = reference.encode_words(vocab, item["ctx"], item["endings"])
    if got != expected:
        no_space = [src.tokenizer.encode(e) for e in item["endings"]]
        hint = ("\nLikely mistake: the leading space is dropped: encode ' ' + ending (' dog' and 'dog' are different "
                "tokens)" if isinstance(got, (list, tuple)) and len(got) == 2 and list(got[1]) == no_space else "")
        checks.fail(f"encode_item({item['ctx']!r}, {item['endings']!r}) gave {checks.describe(got)}; expected "
                    f"{expected!r}{hint}")


def setup(reference_module, gen):
    cfg = config(gen)
    state = gpt_state(reference_module, cfg, gen)
    ctx = tokens(gen, cfg, draw.integer(gen, 3, 8)).tolist()
    endings = [tokens(gen, cfg, n).tolist() for n in (1, 2, 3, 5)]
    order = torch.randperm(4, generator=gen).tolist()
    return cfg, state, ctx, [endings[i] for i in order]


def alternatives(reference_module, cfg, state, ctx, endings):
    """What the usual slips give: the mask unshifted (scores the last context token and not the
    ending's last one), and the whole row scored (context and padding too)."""
    model = reference_module.GPT(reference_module.GPTConfig(**cfg)).double().eval()
    model.load_state_dict(state, strict=False)
    rows = [ctx + e for e in endings]
    width = max(map(len, rows))
    idx = torch.tensor([r + [0] * (width - len(r)) for r in rows])
    with torch.no_grad():
        logp = reference_module.token_logprobs(model(idx), idx)
    mask = torch.zeros(idx.shape, dtype=torch.bool)
    for i, r in enumerate(rows):
        mask[i, len(ctx):len(r)] = True
    return [(("the mask is not shifted: ending token j sits at position len(ctx) + j and is predicted by the logits "
             "one position earlier (use mask[:, 1:] against the shifted targets)"), torch.where(mask[:, :-1], logp, 0).sum(-1)),
            ("the padding is scored too", torch.where(mask[:, 1:] | (torch.arange(width - 1) >= torch.tensor(
                [len(r) - 1 for r in rows])[:, None]), logp, 0).sum(-1)),
            ("the context is scored too: sum only the ending's tokens",
             torch.where(torch.arange(width - 1) < torch.tensor([len(r) - 1 for r in rows])[:, None], logp, 0).sum(-1))]


def test_scores_match_reference(student, reference, reference_module, gen):
    cfg, state, ctx, endings = setup(reference_module, gen)
    total, count, _ = student.score_endings_gpt(cfg, state, ctx, endings, 0)
    expected, expected_count, _ = reference.score_endings_gpt(cfg, state, ctx, endings, 0)
    what = f"score_endings for a context of {len(ctx)} tokens and endings of {[len(e) for e in endings]} tokens"
    checks.close(total, expected, what=what, rtol=RTOL, atol=ATOL,
                 diagnoses=alternatives(reference_module, cfg, state, ctx, endings))
    checks.tensor(count, what="n_tokens", shape=(4,))
    if count.tolist() != expected_count.tolist():
        checks.fail(f"{what}: n_tokens is {count.tolist()}; expected {expected_count.tolist()} (each ending's own tokens)")


def test_scores_do_not_depend_on_pad_id_or_order(student, reference_module, gen):
    cfg, state, ctx, endings = setup(reference_module, gen)
    total, count, _ = student.score_endings_gpt(cfg, state, ctx, endings, 0)
    order = torch.randperm(4, generator=gen).tolist()
    pad = cfg["vocab_size"] - 1
    total2, count2, _ = student.score_endings_gpt(cfg, state, ctx, [endings[i] for i in order], pad)
    if count2.tolist() != count[order].tolist() or not torch.allclose(total2, total[order], rtol=1e-10, atol=1e-12):
        checks.fail(f"scoring the endings in the order {order} with pad id {pad} instead of 0 gave "
                    f"{total2.tolist()}; expected the earlier {total[order].tolist()} in that order: padding must "
                    "not be scored, and each row is scored on its own")


def test_one_model_call_per_item(student, reference_module, gen):
    cfg, state, ctx, endings = setup(reference_module, gen)
    _, _, calls = student.score_endings_gpt(cfg, state, ctx, endings, 0)
    width = len(ctx) + max(map(len, endings))
    if calls != [[4, width]]:
        checks.fail(f"score_endings called the model on inputs of shapes {calls}; expected one call on the padded "
                    f"batch of all endings, [[4, {width}]]")
