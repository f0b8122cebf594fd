"""The data-only channel: what crosses, what cannot, and malformed frames."""

import json
import math
import re

import numpy as np
import pytest
import torch

from autograder.harness import codec


def test_roundtrip_of_every_accepted_kind():
    value = {"t": torch.arange(6.0).view(2, 3), "b": torch.tensor([True, False]), "bf": torch.ones(2, dtype=torch.bfloat16),
             "empty": torch.zeros(0, 4), "scalar": torch.tensor(3, dtype=torch.int64), 1: (b"\x00\xff", None, True),
             "nums": [1, -2.5, float("nan"), float("inf"), 10**30], "nested": [[{"k": "v"}]], ("a", 1): np.int64(7)}
    back = codec.roundtrip(value)
    assert torch.equal(back["t"], value["t"]) and back["bf"].dtype == torch.bfloat16
    assert back["empty"].shape == (0, 4) and back["scalar"].item() == 3 and back["b"].dtype == torch.bool
    assert back[1] == (b"\x00\xff", None, True) and back[("a", 1)] == 7 and type(back[("a", 1)]) is int
    assert back["nums"][:2] == [1, -2.5] and math.isnan(back["nums"][2]) and back["nums"][3] == math.inf
    assert back["nums"][4] == 10**30 and back["nested"] == [[{"k": "v"}]]


def test_numpy_arrays_arrive_as_numpy_so_tests_can_tell():
    back = codec.roundtrip(np.arange(3.0))
    assert isinstance(back, np.ndarray) and back.tolist() == [0.0, 1.0, 2.0]


def test_tensor_subclasses_arrive_as_plain_tensors():
    class Sneaky(torch.Tensor):
        def __eq__(self, other):
            return True
    back = codec.roundtrip(torch.zeros(2).as_subclass(Sneaky))
    assert type(back) is torch.Tensor


@pytest.mark.parametrize("value, phrase", [
    (object(), "cannot send an object of type builtins.object"),
    ({"x": [1, lambda: 0]}, "result['x'][1]: cannot send an object of type"),
    (np.array([object()]), "numpy array of Python objects"),
    (torch.zeros(2, dtype=torch.complex64), "only dense real tensors"),
    (torch.zeros(2).to_sparse(), "only dense real tensors"),
])
def test_objects_cannot_cross(value, phrase):
    with pytest.raises(codec.CodecError, match=re.escape(phrase)):
        codec.encode(value)


def test_depth_is_bounded():
    deep = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(codec.CodecError, match="nested more than"):
        codec.encode(deep)


@pytest.mark.parametrize("header, blob, phrase", [
    (b"not json", b"", "malformed frame"),
    (json.dumps({"payload": {"value": {"$": "pickle", "data": "x"}}}).encode(), b"", "unknown node kind 'pickle'"),
    (json.dumps({"payload": {"value": {"$": "tensor", "key": "t9"}}}).encode(), b"", "missing from the frame"),
    (json.dumps([1, 2]).encode(), b"", "must be a JSON object"),
    (json.dumps({"payload": {"value": 1}}).encode(), b"garbage", "malformed frame"),
])
def test_malformed_frames_are_rejected(header, blob, phrase):
    with pytest.raises(codec.CodecError, match=phrase):
        codec.unpack(header, blob)


def test_pack_unpack():
    data = codec.pack({"kind": "call", "id": 3}, ([torch.ones(2)], {"k": 1}))
    n_text, n_blob = codec.frame_lengths(data[:codec.HEADER_SIZE])
    header, value = codec.unpack(data[codec.HEADER_SIZE:codec.HEADER_SIZE + n_text], data[codec.HEADER_SIZE + n_text:])
    assert header == {"kind": "call", "id": 3} and value[1] == {"k": 1} and torch.equal(value[0][0], torch.ones(2))
    assert len(data) == codec.HEADER_SIZE + n_text + n_blob
