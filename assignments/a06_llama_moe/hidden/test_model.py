"""Hidden tests, task model: logits against the reference with a tied or untied head, cached
chunks equal to the full pass, the parameters (names, shapes, count, tying), the context
check, and cached greedy decoding."""

import pytest
import torch

from autograder.grade import checks

from .common import ATOL, RTOL, config, llama_state, tokens

pytestmark = pytest.mark.task("model")


@pytest.mark.parametrize("tied", [False, True])
def test_logits_match_reference(student, reference, reference_module, gen, tied):
    cfg = config(gen, tie_embeddings=tied)
    state = llama_state(reference_module, cfg, gen)
    idx = tokens(gen, cfg, 2, 9)
    checks.close(student.model_logits(cfg, state, idx), reference.model_logits(cfg, state, idx),
                 what=f"Llama logits (tie_embeddings={tied})", rtol=RTOL, atol=ATOL)


def test_cached_chunks_equal_the_full_pass(student, reference, reference_module, gen):
    cfg = config(gen, n_layers=2)                     # two layers, so each needs its own cache
    state = llama_state(reference_module, cfg, gen)
    idx = tokens(gen, cfg, 2, 10)
    checks.close(student.model_logits(cfg, state, idx, 3), reference.model_logits(cfg, state, idx),
                 what="Llama logits fed 3 tokens at a time with one KVCache per block", rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("tied", [False, True])
def test_parameters(student, reference, gen, tied):
    cfg = config(gen, tie_embeddings=tied)
    got, expected = student.model_structure(cfg), reference.model_structure(cfg)
    if got["shapes"] != expected["shapes"]:
        wrong = [name for name in sorted(set(got["shapes"]) | set(expected["shapes"]))
                 if got["shapes"].get(name) != expected["shapes"].get(name)]
        checks.fail(f"the state dict differs from the specification at {wrong[:4]}: got "
                    f"{[got['shapes'].get(n) for n in wrong[:4]]}, expected {[expected['shapes'].get(n) for n in wrong[:4]]}")
    if got["tied"] != tied:
        checks.fail(f"with tie_embeddings={tied}, lm_head.weight should {'be' if tied else 'not be'} "
                    "embed_tokens.weight")
    checks.equal(got["count"], expected["count"], what=f"count_parameters (tie_embeddings={tied})",
                 hint="count every parameter once: a tied head shares the embedding's matrix")


def test_context_length_is_enforced(student, reference_module, gen):
    cfg = config(gen)
    state = llama_state(reference_module, cfg, gen)
    checks.raises(ValueError, student.model_logits, cfg, state, tokens(gen, cfg, 1, cfg["context_length"] + 1),
                  what="Llama on more tokens than context_length", why="positions past the context must be refused")


def test_cached_greedy_decoding(student, reference, reference_module, gen):
    cfg = config(gen, n_layers=2)
    state = llama_state(reference_module, cfg, gen)
    prompt = tokens(gen, cfg, 2, 5)
    expected, _ = reference.generate_tokens(cfg, state, prompt, 8, False)
    for use_cache in (False, True):
        got, lengths = student.generate_tokens(cfg, state, prompt, 8, use_cache)
        checks.tensor(got, what="generate_greedy(...)", shape=(2, 13), dtype=torch.int64)
        if not torch.equal(got, expected):
            checks.fail(f"generate_greedy(use_cache={use_cache}) gave tokens {got[:, 5:].tolist()}, expected "
                        f"{expected[:, 5:].tolist()} (the argmax of the last position, appended each step)")
    if lengths[0] != 5 or any(n != 1 for n in lengths[1:]):
        checks.fail(f"with use_cache=True the model was called with inputs of lengths {lengths}; expected the prompt "
                    "(5) once, then only the newest token (1) per step")
