"""Assertions for hidden tests, written to teach: what was expected, what came back, and
the likely mistake.

``close(actual, expected, what=..., diagnoses=[(label, alternative), ...])`` checks type,
shape, dtype and finiteness first (each with its own message), then values; if the values
are wrong and match one of the ``alternative`` results (the reference with a known bug
injected, computed on the same inputs), the message names that bug.

Tolerances are the caller's, stated where they are used; with float64 inputs, correct
code agrees with the reference to ~1e-12, so a tolerance of 1e-8 leaves room for any
legitimate reformulation while catching real mistakes.
"""

from __future__ import annotations

import torch


def fail(message: str):
    raise AssertionError(message)


def describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"a {type(value).__module__}.{type(value).__name__} of shape {tuple(value.shape)}"
    text = repr(value)
    return f"{type(value).__name__} {text[:80]}{'...' if len(text) > 80 else ''}"


def tensor(actual, *, what: str, shape=None, dtype=None, finite: bool = True) -> torch.Tensor:
    """``actual`` must be a tensor of ``shape`` and ``dtype`` with no NaN or inf."""
    if not isinstance(actual, torch.Tensor):
        fail(f"{what} should be a torch.Tensor; got {describe(actual)}")
    if shape is not None and tuple(actual.shape) != tuple(shape):
        fail(f"{what} has shape {tuple(actual.shape)}; expected {tuple(shape)}")
    if dtype is not None and actual.dtype != dtype:
        fail(f"{what} has dtype {actual.dtype}; expected {dtype}, the dtype of the inputs "
             "(avoid hard-coded .float() or dtype=torch.float32)")
    if finite and actual.is_floating_point():
        bad = ~torch.isfinite(actual)
        if bad.any():
            index = tuple(int(i) for i in bad.nonzero()[0])
            fail(f"{what} contains NaN or inf at {int(bad.sum())} of {actual.numel()} positions "
                 f"(first at index {index}: {actual[index].item()})")
    return actual


def matches(actual: torch.Tensor, expected, rtol: float, atol: float) -> bool:
    return (isinstance(expected, torch.Tensor) and isinstance(actual, torch.Tensor)
            and actual.shape == expected.shape and bool(torch.isfinite(expected).all())
            and torch.allclose(actual.to(expected.dtype), expected, rtol=rtol, atol=atol))


def likely_mistake(actual: torch.Tensor, diagnoses, rtol: float = 1e-6, atol: float = 1e-8) -> str | None:
    """Label of the first known bug whose output ``actual`` reproduces."""
    for label, alternative in diagnoses:
        if matches(actual, alternative, rtol, atol):
            return label
    return None


def close(actual, expected: torch.Tensor, *, what: str, rtol: float, atol: float, diagnoses=(),
          finite: bool = True) -> None:
    """``actual`` equals ``expected`` within ``atol + rtol * |expected|`` everywhere."""
    tensor(actual, what=what, shape=expected.shape, dtype=expected.dtype, finite=finite)
    diff = (actual - expected).abs()
    bad = diff > atol + rtol * expected.abs()
    if finite:
        bad |= ~torch.isfinite(actual)
    if not bad.any():
        return
    worst = tuple(int(i) for i in torch.nonzero(diff == diff[bad].max())[0]) if diff.dim() else ()
    message = (f"{what} is wrong at {int(bad.sum())} of {bad.numel()} positions; largest difference "
               f"{diff[bad].max().item():.3g} at index {worst}: got {actual[worst].item():.6g}, expected "
               f"{expected[worst].item():.6g} (tolerance: atol={atol:g}, rtol={rtol:g})")
    label = likely_mistake(actual, diagnoses)
    if label:
        message += f"\nLikely mistake: {label}."
    fail(message)


def equal(actual, expected, *, what: str, hint: str = "") -> None:
    """Exact equality, type included, for integers, strings, lists and the like."""
    if type(actual) is not type(expected) or actual != expected:
        fail(f"{what}: expected {expected!r}, got {describe(actual)}" + (f"\n{hint}" if hint else ""))
