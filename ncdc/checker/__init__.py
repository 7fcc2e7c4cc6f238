"""The checker: syntax tree to typed IR, solving every size and explaining every mismatch."""

from __future__ import annotations

from .. import tree, ir
from .program import ProgramChecker


def check(program: tree.Program, path: str, concrete: dict[str, int] | None = None) -> ir.Program:
    """Typed IR for a parsed spec; raises NcdcError with every diagnostic found."""
    return ProgramChecker(path, concrete).check(program)
