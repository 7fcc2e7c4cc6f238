"""Diagnostics are values: a stable code, a message, a primary span with secondary labelled spans,
notes and a help line.

One module renders them, as text for people and as JSON for CI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import NoReturn

from .source import Span


@dataclass(frozen=True)
class Label:
    """A secondary span with what it says about the diagnostic: "declared here", "first defined here"."""

    span: Span
    text: str = ""

    def to_json(self) -> dict:
        span = self.span
        return {"file": span.source.path, "line": span.line, "column": span.column,
                "end_line": span.end_line, "end_column": span.end_column, "text": self.text}


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
    labels: list[Label] = field(default_factory=list)

    def render(self) -> str:
        out = [f"{self.severity}[{self.code}]: {self.message}"]
        # Labels on the primary line join its snippet; the others get a snippet per line, in order.
        snippets: dict[tuple, list[tuple[Span, str, str]]] = {}
        if self.span is not None:
            snippets[_line_of(self.span)] = [(self.span, "^", self.label)]
        for label in self.labels:
            snippets.setdefault(_line_of(label.span), []).append((label.span, "-", label.text))
        if snippets:
            pad = " " * max(len(str(line)) for _, line in snippets)
            for i, marks in enumerate(snippets.values()):
                if i:
                    out.append(f"{pad} |")
                out += _snippet(marks, pad)
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
            "labels": [label.to_json() for label in self.labels],
            "notes": list(self.notes),
            "help": self.help,
        }


def _line_of(span: Span) -> tuple[str, int]:
    return span.source.path, span.line


def _snippet(marks: list[tuple[Span, str, str]], pad: str) -> list[str]:
    """One source line with its underlined spans: the rightmost one's text beside it, the others'
    below it, each hanging from its span (as rustc does)."""
    first = marks[0][0]
    line = first.source.line(first.line).expandtabs(1)
    underline = [" "] * (len(line) + 1)
    ranges = []
    for span, char, text in marks:
        end = span.end_column if span.end_line == span.line else len(line) + 1
        start, width = span.column - 1, max(1, end - span.column)
        underline.extend(" " * (start + width - len(underline)))
        for c in range(start, start + width):
            if underline[c] != "^":  # the primary span shows over a secondary one
                underline[c] = char
        ranges.append((start, start + width, text))
    out = [f"{pad}--> {first.location}", f"{pad} |", f"{str(first.line).ljust(len(pad))} | {line}"]
    texts = sorted((r for r in ranges if r[2]), key=lambda r: (r[0], r[1]))
    # The rightmost text fits beside the underline when no other span starts after it ends.
    inline = texts.pop() if texts and all(r[0] < texts[-1][1] for r in ranges) else None
    row = "".join(underline).rstrip()
    out.append(_row(pad, row + (f" {inline[2]}" if inline else "")))
    if texts:
        out.append(_row(pad, _hang(texts, len(texts))))
        for k in range(len(texts), 0, -1):
            out.append(_row(pad, _hang(texts, k - 1) + texts[k - 1][2]))
    return out


def _hang(texts: list[tuple[int, int, str]], count: int) -> str:
    """`|` under the start of the first `count` labelled spans, padded to the start of the next."""
    cells: list[str] = []
    for start, _, _ in texts[:count]:
        cells.extend(" " * (start - len(cells)))
        if len(cells) == start:
            cells.append("|")
    if count < len(texts):
        cells.extend(" " * (texts[count][0] - len(cells)))
    return "".join(cells)


def _row(pad: str, text: str) -> str:
    return f"{pad} | {text}".rstrip()


class NcdcError(Exception):
    """Errors in the input: carries the diagnostics that explain them, at least one (an error that
    adds none, because it is already reported, is `AlreadyReported`)."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic):
        self.diagnostics = [diagnostics] if isinstance(diagnostics, Diagnostic) else list(diagnostics)
        if not self.diagnostics:
            raise ValueError("NcdcError without diagnostics: raise AlreadyReported for errors already reported")
        super().__init__(self.render())

    def render(self) -> str:
        return "\n\n".join(d.render() for d in self.diagnostics)


def render_json(diagnostics: list[Diagnostic]) -> str:
    return json.dumps({"diagnostics": [d.to_json() for d in diagnostics]}, indent=2, ensure_ascii=False)


def fail(code: str, message: str, span: Span | None, label: str = "", notes=(), help: str | None = None,
         labels=()) -> NoReturn:
    """Stop checking this declaration with one diagnostic."""
    raise NcdcError(Diagnostic(code, message, span, label, list(notes), help, labels=list(labels)))


class AlreadyReported(Exception):
    """A use of a definition whose own errors are already reported: it adds no diagnostic of its own.

    Not an NcdcError, so that code handling an NcdcError always has a diagnostic to read; only the
    checker's driver (ProgramChecker.guard) catches it."""
