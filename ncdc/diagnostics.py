"""Diagnostics are values: a stable code, a message, a primary span, notes and a help line.

One module renders them, as text for people and as JSON for CI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import NoReturn

from .source import Span


@dataclass
class Diagnostic:
    code: str
    message: str
    span: Span | None = None
    label: str = ""
    notes: list[str] = field(default_factory=list)
    help: str | None = None
    severity: str = "error"
    file: str | None = None  # for a diagnostic about a whole file, which has no span

    def render(self) -> str:
        out = [f"{self.severity}[{self.code}]: {self.message}"]
        if self.span is not None:
            span = self.span
            number = str(span.line)
            pad = " " * len(number)
            line = span.source.line(span.line).expandtabs(1)
            end = span.end_column if span.end_line == span.line else len(line) + 1
            width = max(1, end - span.column)
            out += [
                f"{pad}--> {span.location}",
                f"{pad} |",
                f"{number} | {line}",
                f"{pad} | {' ' * (span.column - 1)}{'^' * width}{' ' + self.label if self.label else ''}",
            ]
            bar = f"{pad} = "
        else:
            if self.file:
                out.append(f"  --> {self.file}")
            bar = "  = "
        out += [f"{bar}note: {note}" for note in self.notes]
        if self.help:
            out.append(f"{bar}help: {self.help}")
        return "\n".join(out)

    def to_json(self) -> dict:
        span = self.span
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "file": span.source.path if span else self.file,
            "line": span.line if span else None,
            "column": span.column if span else None,
            "end_line": span.end_line if span else None,
            "end_column": span.end_column if span else None,
            "label": self.label,
            "notes": list(self.notes),
            "help": self.help,
        }


class NcdcError(Exception):
    """Errors in the input: carries the diagnostics that explain them."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic):
        self.diagnostics = [diagnostics] if isinstance(diagnostics, Diagnostic) else list(diagnostics)
        super().__init__(self.render())

    def render(self) -> str:
        return "\n\n".join(d.render() for d in self.diagnostics)


def render_json(diagnostics: list[Diagnostic]) -> str:
    return json.dumps({"diagnostics": [d.to_json() for d in diagnostics]}, indent=2, ensure_ascii=False)


def fail(code: str, message: str, span: Span | None, label: str = "", notes=(), help: str | None = None) -> NoReturn:
    """Stop checking this declaration with one diagnostic."""
    raise NcdcError(Diagnostic(code, message, span, label, list(notes), help))


class AlreadyReported(Exception):
    """A use of a definition whose own errors are already reported: it adds no diagnostic of its own."""
