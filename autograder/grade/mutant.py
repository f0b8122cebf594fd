"""Realistic buggy submissions ("mutants"): the reference with one mistake injected.

A mutant is a list of exact text replacements on the reference module. Each replacement
must match exactly once, so a change to the reference that invalidates a mutant fails
loudly instead of silently testing nothing. ``task`` is where the mutant must lose
points; ``says`` (optional) is a phrase the failure messages must contain, which checks
that the diagnosis names the mistake.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    name: str
    task: str
    replace: tuple[tuple[str, str], ...]
    says: str = ""
    variant: str = "standard"

    def apply(self, reference: str) -> str:
        text = reference
        for old, new in self.replace:
            count = text.count(old)
            if count != 1:
                raise AssertionError(f"mutant {self.name}: {old!r} occurs {count} times in the reference")
            text = text.replace(old, new)
        return text
