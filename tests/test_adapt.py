"""``load_state``, the one loader every adapter builds a student's module with: what a state
dict must set, and what a tied parameter left out of it must be."""

from __future__ import annotations

import pytest
import torch

from autograder.harness.adapt import load_state


class TinyLM(torch.nn.Module):
    def __init__(self, tied: bool = True):
        super().__init__()
        self.wte = torch.nn.Embedding(11, 4)
        self.lm_head = torch.nn.Linear(4, 11, bias=False)
        if tied:
            self.lm_head.weight = self.wte.weight
        self.register_buffer("mask", torch.ones(3, 3))        # a student's own buffer: never compared


STATE = {"wte.weight": torch.randn(11, 4, dtype=torch.float64)}


def test_a_tied_head_left_out_of_the_state_shares_the_loaded_embedding():
    model = load_state(TinyLM(), STATE, may_be_missing=("lm_head.weight",))
    assert model.lm_head.weight.dtype == torch.float64 and torch.equal(model.lm_head.weight, STATE["wte.weight"])
    assert not model.training


def test_an_untied_head_left_out_of_the_state_is_refused_with_the_fix():
    # Loaded, it would keep its random initialization: every model built from the same state
    # would give other logits, and tests of causality or batching would blame the wrong part.
    with pytest.raises(KeyError, match=r"'lm_head.weight' is a parameter of its own.*self.lm_head.weight = self.wte.weight"):
        load_state(TinyLM(tied=False), STATE, may_be_missing=("lm_head.weight",))


def test_a_parameter_the_state_must_set_and_a_key_the_model_lacks_are_named():
    with pytest.raises(KeyError, match="does not name"):
        load_state(TinyLM(tied=False), STATE)
    with pytest.raises(KeyError, match="no parameter 'wpe.weight'"):
        load_state(TinyLM(), {**STATE, "wpe.weight": torch.zeros(3, 4)}, may_be_missing=("lm_head.weight",))
