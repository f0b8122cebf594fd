"""Assertions for hidden tests, written to teach: what was expected, what came back, and
the likely mistake.

``close(actual, expected, what=..., diagnoses=[(label, alternative), ...])`` checks type,
shape, dtype and finiteness first (each with its own message), then values; if the values
are wrong and match one of the ``alternative`` results (the reference with a known bug
injected, computed on the same inputs), the message names that bug.

The diagnosis protocol, one for every assignment: ``diagnoses`` is a list of ``(label,
alternative)`` pairs, where ``alternative`` is what a submission with that mistake returns on
the same inputs, or a function of no arguments computing it (so costly recomputations run only
when a result is already wrong). ``likely_mistake`` names the first one the wrong result
reproduces (tensors within a tolerance, anything else by ``==``), and nothing otherwise:
a mistake is named only when it is reproduced. ``patched`` injects a mistake into the
reference while an alternative is computed.

Tolerances are the caller's, stated where they are used; with float64 inputs, correct
code agrees with the reference to ~1e-12, so a tolerance of 1e-8 leaves room for any
legitimate reformulation while catching real mistakes.
"""

from __future__ import annotations

import contextlib
import math

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


def likely_mistake(actual, diagnoses, rtol: float = 1e-6, atol: float = 1e-8) -> str | None:
    """Label of the first known bug whose output ``actual`` reproduces (see the module's
    docstring for the protocol)."""
    for label, alternative in diagnoses:
        if callable(alternative):
            alternative = alternative()
        if isinstance(actual, torch.Tensor) or isinstance(alternative, torch.Tensor):
            if matches(actual, alternative, rtol, atol):
                return label
        elif actual == alternative:
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


def raises(error: type, call, *args, what: str, why: str) -> None:
    """``call(*args)`` must raise ``error`` (a student's exception arrives as a subclass of it)."""
    from .seam import StudentException, StudentNotImplemented
    try:
        call(*args)
    except error:
        return
    except StudentNotImplemented:
        raise                                      # a stub is "not implemented", not a wrong exception
    except StudentException as exc:
        fail(f"{what} must raise {error.__name__}, but raised {exc.type_name}: {why}\n\n{exc}")
    fail(f"{what} must raise {error.__name__}, but returned normally: {why}")


def equal(actual, expected, *, what: str, hint: str = "") -> None:
    """Exact equality, type included, for integers, strings, lists and the like."""
    if type(actual) is not type(expected) or actual != expected:
        fail(f"{what}: expected {expected!r}, got {describe(actual)}" + (f"\n{hint}" if hint else ""))


def answer(actual, expected, *, what: str, hint: str = "", abs_tol: float | None = None) -> None:
    """A conceptual question's answer: exactly ``expected`` (type included), or for a float
    ``expected`` with ``abs_tol``, any float within it. ``hint`` says how to get there."""
    if abs_tol is None:
        return equal(actual, expected, what=what, hint=hint)
    if not isinstance(actual, float) or not abs(actual - expected) <= abs_tol:
        fail(f"{what}: expected {expected:.6g} (a float, within {abs_tol:g}), got {describe(actual)}"
             + (f"\n{hint}" if hint else ""))


@contextlib.contextmanager
def patched(module, **replacements):
    """Swap attributes of ``module`` (the reference) for buggy ones while a known mistake's
    output is recomputed: ``with patched(ref, gelu=erf_gelu): alt = reference.model_logits(...)``."""
    saved = {name: getattr(module, name) for name in replacements}
    for name, value in replacements.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(module, name, value)


def chi_square(counts: torch.Tensor, probs: torch.Tensor, *, what: str, z: float = 4.75) -> None:
    """Draw counts must fit ``probs`` (a seeded goodness-of-fit test).

    Categories with zero probability must get zero draws; the rest are pooled until each
    expects at least 5 draws. The critical value is the chi-square quantile for a one-sided
    normal deviate ``z`` (4.75: a false alarm about once in a million runs), by the
    Wilson-Hilferty approximation.
    """
    counts, probs = counts.double(), probs.double()
    n = counts.sum()
    impossible = (probs == 0) & (counts > 0)
    if impossible.any():
        fail(f"{what}: drew token {int(impossible.nonzero()[0])}, which must have probability 0 "
             f"({int(counts[impossible].sum())} of {int(n)} draws)")
    order = torch.argsort(probs, descending=True)
    observed, expected, acc_o, acc_e = [], [], 0.0, 0.0
    for i in order.tolist():
        if probs[i] == 0:
            continue
        acc_o, acc_e = acc_o + counts[i].item(), acc_e + (n * probs[i]).item()
        if acc_e >= 5:
            observed.append(acc_o)
            expected.append(acc_e)
            acc_o = acc_e = 0.0
    if acc_e and expected:
        observed[-1] += acc_o
        expected[-1] += acc_e
    stat = sum((o - e) ** 2 / e for o, e in zip(observed, expected))
    df = max(len(expected) - 1, 1)
    critical = df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3
    if stat > critical:
        worst = max(range(len(expected)), key=lambda j: abs(observed[j] - expected[j]) / math.sqrt(expected[j]))
        fail(f"{what}: the draws do not follow the expected distribution (chi-square {stat:.1f} > {critical:.1f} "
             f"with {df} degrees of freedom); e.g. a category expected {expected[worst]:.0f} times came "
             f"{observed[worst]:.0f} times")
