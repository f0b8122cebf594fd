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


def test_an_untied_head_left_out_of_the_state_gets_the_embeddings_values():
    # Random, it would give other logits in every model built from the same state, and tests
    # of causality, batching or generation would blame parts that are right. The model's own
    # structural test says that the head is not tied.
    model = load_state(TinyLM(tied=False), STATE, may_be_missing=("lm_head.weight",))
    assert model.lm_head.weight is not model.wte.weight
    assert torch.equal(model.lm_head.weight, STATE["wte.weight"]) and torch.equal(model.wte.weight, STATE["wte.weight"])


def test_the_embedding_an_untied_head_gets_is_the_first_of_its_shape():
    # positions (wpe) of the same shape as the tokens' (context_length == vocab_size), after them
    model = TinyLM(tied=False)
    model.wpe = torch.nn.Embedding(11, 4)
    state = {**STATE, "wpe.weight": torch.randn(11, 4, dtype=torch.float64)}
    assert torch.equal(load_state(model, state, may_be_missing=("lm_head.weight",)).lm_head.weight, STATE["wte.weight"])


def test_an_untied_head_with_no_embedding_of_its_shape_is_refused():
    model = TinyLM(tied=False)
    model.lm_head = torch.nn.Linear(4, 7, bias=False)
    with pytest.raises(KeyError, match=r"'lm_head.weight' is not in the state dict and is tied to no embedding"):
        load_state(model, STATE, may_be_missing=("lm_head.weight",))


def test_a_parameter_the_state_must_set_and_a_key_the_model_lacks_are_named():
    with pytest.raises(KeyError, match="does not name"):
        load_state(TinyLM(tied=False), STATE)
    with pytest.raises(KeyError, match="no parameter 'wpe.weight'"):
        load_state(TinyLM(), {**STATE, "wpe.weight": torch.zeros(3, 4)}, may_be_missing=("lm_head.weight",))
