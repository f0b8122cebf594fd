"""Data-only encoding of values that cross between the grader and student code.

A value is turned into a JSON document plus a safetensors blob for its tensors; nothing
else crosses. Decoding can therefore never run code or rebuild a student-defined object:
a tensor subclass arrives as a plain tensor, an object with a custom ``__eq__`` cannot be
sent at all.

Accepted: None, bool, int, float (NaN and inf included), str, bytes, list, tuple, dict
(keys of any accepted hashable kind), torch.Tensor (dense, any device: sent from CPU) and
numpy arrays (which arrive as numpy arrays, so a test can tell the student returned the
wrong type). Everything else raises ``CodecError`` naming the type and where it sits.

A frame on the wire is ``[u64 json length][u64 blob length][json][safetensors blob]``.

Leaves out: streaming of very large tensors (a frame is built in memory), sparse or
complex tensors.
"""

from __future__ import annotations

import base64
import json
import struct

import numpy as np
import safetensors.torch
import torch

MAX_DEPTH = 64
_HEADER = struct.Struct("<QQ")


class CodecError(ValueError):
    """A value that cannot cross the boundary, or a frame that is not well formed."""


# ----------------------------------------------------------------------------- encode

def encode(value) -> tuple[dict, bytes]:
    """Return ``(document, blob)``: a JSON-ready document and the safetensors bytes."""
    tensors: dict[str, torch.Tensor] = {}
    doc = {"value": _encode(value, tensors, "result", 0)}
    blob = safetensors.torch.save(tensors) if tensors else b""
    return doc, blob


def _encode(value, tensors, where, depth):
    if depth > MAX_DEPTH:
        raise CodecError(f"{where}: nested more than {MAX_DEPTH} levels deep")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return {"$": "float", "v": repr(float(value))}
    if isinstance(value, (bytes, bytearray)):
        return {"$": "bytes", "b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, torch.Tensor):
        return _encode_tensor(value, tensors, where, "tensor")
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise CodecError(f"{where}: numpy array of Python objects cannot be sent")
        return _encode_tensor(torch.from_numpy(np.ascontiguousarray(value)), tensors, where, "ndarray")
    if isinstance(value, (list, tuple)):
        items = [_encode(v, tensors, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
        return items if isinstance(value, list) else {"$": "tuple", "items": items}
    if isinstance(value, dict):
        return {"$": "dict", "items": [
            [_encode(k, tensors, f"{where} key {k!r}", depth + 1),
             _encode(v, tensors, f"{where}[{k!r}]", depth + 1)] for k, v in value.items()]}
    raise CodecError(
        f"{where}: cannot send an object of type {type(value).__module__}.{type(value).__qualname__}; "
        "return tensors, numbers, strings, bytes, lists, tuples or dicts")


def _encode_tensor(t, tensors, where, kind):
    if t.layout != torch.strided or t.is_complex() or t.is_quantized:
        raise CodecError(f"{where}: only dense real tensors can be sent (got layout {t.layout}, dtype {t.dtype})")
    key = f"t{len(tensors)}"
    # as_subclass drops any tensor subclass; clone gives safetensors an unshared buffer.
    tensors[key] = t.detach().as_subclass(torch.Tensor).to("cpu").contiguous().clone()
    return {"$": kind, "key": key, "requires_grad": bool(t.requires_grad)}


# ----------------------------------------------------------------------------- decode

def decode(doc: dict, blob: bytes):
    """Inverse of ``encode``; raises ``CodecError`` on anything it does not recognise."""
    tensors = safetensors.torch.load(blob) if blob else {}
    if not isinstance(doc, dict) or set(doc) != {"value"}:
        raise CodecError("frame document must be {'value': ...}")
    return _decode(doc["value"], tensors, 0)


def _decode(node, tensors, depth):
    if depth > MAX_DEPTH:
        raise CodecError(f"value nested more than {MAX_DEPTH} levels deep")
    if node is None or isinstance(node, (bool, int, str)):
        return node
    if isinstance(node, list):
        return [_decode(v, tensors, depth + 1) for v in node]
    if not isinstance(node, dict):
        raise CodecError(f"unexpected JSON node of type {type(node).__name__}")
    kind = node.get("$")
    if kind == "float":
        return float(node["v"])
    if kind == "bytes":
        return base64.b64decode(node["b64"], validate=True)
    if kind in ("tensor", "ndarray"):
        t = tensors.get(node["key"])
        if t is None:
            raise CodecError(f"tensor {node['key']!r} missing from the frame")
        return t.numpy() if kind == "ndarray" else t
    if kind == "tuple":
        return tuple(_decode(v, tensors, depth + 1) for v in node["items"])
    if kind == "dict":
        out = {}
        for pair in node["items"]:
            key = _decode(pair[0], tensors, depth + 1)
            try:
                out[key] = _decode(pair[1], tensors, depth + 1)
            except TypeError:
                raise CodecError(f"dict key of type {type(key).__name__} is not hashable") from None
        return out
    raise CodecError(f"unknown node kind {kind!r}")


# ----------------------------------------------------------------------------- frames

def pack(header: dict, value=None) -> bytes:
    """One frame: a JSON header (protocol fields) with an encoded ``value`` inside."""
    doc, blob = encode(value)
    header = dict(header, payload=doc)
    text = json.dumps(header, allow_nan=False).encode("utf-8")
    return _HEADER.pack(len(text), len(blob)) + text + blob


def frame_lengths(prefix: bytes) -> tuple[int, int]:
    """Lengths of the JSON part and the blob, read from a frame's first 16 bytes."""
    return _HEADER.unpack(prefix)


HEADER_SIZE = _HEADER.size


def unpack(text: bytes, blob: bytes) -> tuple[dict, object]:
    """Inverse of ``pack`` given the two parts: returns ``(header, value)``."""
    try:
        header = json.loads(text.decode("utf-8"))
        if not isinstance(header, dict) or "payload" not in header:
            raise CodecError("frame header must be a JSON object with a payload")
        value = decode(header.pop("payload"), blob)
    except CodecError:
        raise
    except Exception as exc:  # noqa: BLE001 - the frame came from the untrusted side: nothing else may escape
        raise CodecError(f"malformed frame: {type(exc).__name__}: {exc}") from None
    return header, value


def roundtrip(value):
    """Encode then decode in one process: gives local runs the grader's exact semantics."""
    doc, blob = encode(value)
    return decode(json.loads(json.dumps(doc, allow_nan=False)), blob)
