"""Hidden tests, task kv_generation (hardmode): cached generation runs the prompt once,
then one token per step, refills after the context fills, and matches uncached sampling."""

import pytest
import torch

from autograder.grade import checks

from .common import config, gpt_state, tokens

pytestmark = pytest.mark.task("kv_generation")


def test_one_token_per_step_then_the_window(student, reference, reference_module, gen):
    cfg = config(gen)
    state = gpt_state(reference_module, cfg, gen)
    prompt = tokens(gen, cfg, 1, 6)
    _, lengths = student.generate_tokens(cfg, state, prompt, 14, 0.0, use_cache=True)
    _, expected = reference.generate_tokens(cfg, state, prompt, 14, 0.0, use_cache=True)
    if lengths != expected:
        checks.fail(f"the model was called with inputs of lengths {lengths}; expected {expected}: the prompt once, "
                    "then only the newest token, and the cropped window again once the context is full")


def test_cached_sampling_matches_uncached_past_the_context(student, reference_module, gen, seed):
    cfg = config(gen)
    state = gpt_state(reference_module, cfg, gen)
    prompt = tokens(gen, cfg, 3, 9)
    plain, _ = student.generate_tokens(cfg, state, prompt, 20, 0.9, None, 0.95, False, seed)
    cached, _ = student.generate_tokens(cfg, state, prompt, 20, 0.9, None, 0.95, True, seed)
    checks.tensor(cached, what="cached generate(...)", shape=(3, 29), dtype=torch.int64)
    if not torch.equal(plain, cached):
        checks.fail("sampled generation with use_cache=True differs from without past the context length: refill "
                    "the caches with the cropped window once they are full")
