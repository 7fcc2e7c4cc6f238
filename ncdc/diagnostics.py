"""Diagnostics are values: a stable code, a message, a primary span with secondary labelled spans,
notes and a help line.

One module renders them: as text for people (coloured on a terminal), and for CI as JSON, as SARIF
2.1.0 (code scanning) and as GitHub workflow commands (annotations on a pull request).
"""

from __future__ import annotations

import re

from .nodes import field, frozen, mutable
from .source import Span

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (2.4 ms of `import ncdc`)
if TYPE_CHECKING:
    from typing import NoReturn


@frozen
class Label:
    """A secondary span with what it says about the diagnostic: "declared here", "first defined here"."""

    span: Span
    text: str = ""

    def to_json(self) -> dict:
        span = self.span
        return {"file": span.source.path, "line": span.line, "column": span.column,
                "end_line": span.end_line, "end_column": span.end_column, "text": self.text}


@mutable
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

    def render(self, color: bool = False) -> str:
        """The diagnostic as text for people; `color` adds ANSI colours (for a terminal)."""
        paint = _Paint(color, self.severity)
        out = [paint.header(f"{self.severity}[{self.code}]") + f": {self.message}"]
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
                out += _snippet(marks, pad, paint)
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


def _snippet(marks: list[tuple[Span, str, str]], pad: str, paint: _Paint | None = None) -> list[str]:
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
    if paint is not None:
        row = paint.underline(row)
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


class _Paint:
    """ANSI colours for a terminal, or none: the severity's colour for the header and the primary
    carets, blue for the secondary underlines."""

    COLORS = {"error": "1;31", "warning": "1;33"}
    SECONDARY = "1;34"

    def __init__(self, on: bool, severity: str):
        self.on = on
        self.color = self.COLORS.get(severity, "1;31")

    def _wrap(self, text: str, color: str) -> str:
        return f"\x1b[{color}m{text}\x1b[0m" if self.on and text else text

    def header(self, text: str) -> str:
        return self._wrap(text, self.color)

    def underline(self, row: str) -> str:
        if not self.on:
            return row
        return re.sub(r"\^+|-+", lambda m: self._wrap(m.group(), self.color if m.group()[0] == "^" else self.SECONDARY),
                      row)


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
    import json  # only here: checking to text does without it

    return json.dumps({"diagnostics": [d.to_json() for d in diagnostics]}, indent=2, ensure_ascii=False)


def fail(code: str, message: str, span: Span | None, label: str = "", notes=(), help: str | None = None,
         labels=()) -> NoReturn:
    """Stop checking this declaration with one diagnostic."""
    raise NcdcError(Diagnostic(code, message, span, label, list(notes), help, labels=list(labels)))


class AlreadyReported(Exception):
    """A use of a definition whose own errors are already reported: it adds no diagnostic of its own.

    Not an NcdcError, so that code handling an NcdcError always has a diagnostic to read; only the
    checker's driver (ProgramChecker.guard) catches it."""


SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def information_uri() -> str | None:
    """The project's home page, as its package metadata declares it (`[project.urls]`), or None."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        urls = metadata("ncdc").get_all("Project-URL") or []
    except PackageNotFoundError:
        return None
    found = dict(url.split(", ", 1) for url in urls if ", " in url)
    for key in ("Homepage", "homepage", "Documentation", "Source", "Repository"):
        if found.get(key, "").startswith(("https://", "http://")):
            return found[key]
    return None


def _details(d: Diagnostic) -> str:
    """The message with its notes and help: what a CI annotation shows of a diagnostic."""
    lines = [d.message]
    lines += [f"note: {note}" for note in d.notes]
    if d.help:
        lines.append(f"help: {d.help}")
    return "\n".join(lines)


def _uri(path: str) -> str:
    """A SARIF artifact URI for a path: relative as given (a relative reference, `/`-separated), an
    absolute path as a file: URI."""
    from pathlib import PurePath
    from urllib.parse import quote

    pure = PurePath(path)
    if pure.is_absolute():
        try:
            return pure.as_uri()
        except ValueError:
            pass
    return quote(pure.as_posix())


def _region(span: Span, text: str = "") -> dict:
    region: dict = {"startLine": span.line, "startColumn": span.column, "endLine": span.end_line,
                    "endColumn": max(span.end_column, span.column + 1) if span.end_line == span.line
                    else span.end_column}
    if text:
        region["message"] = {"text": text}
    return region


def _physical(path: str, span: Span | None, text: str = "") -> dict:
    location: dict = {"artifactLocation": {"uri": _uri(path)}}
    if span is not None:
        location["region"] = _region(span, text)
    return location


def sarif(diagnostics: list[Diagnostic], version: str) -> dict:
    """The diagnostics as one SARIF 2.1.0 run of the tool `ncdc` (a JSON value).

    Columns count Unicode code points (the run's `columnKind`), as ncdc's spans do; `endColumn` is the
    column just after the region, as in the spans.  Secondary labels are related locations."""
    from .codes import SHORT_DESCRIPTIONS

    codes = sorted({d.code for d in diagnostics})
    rules = [{"id": code, "shortDescription": {"text": SHORT_DESCRIPTIONS.get(code, code)}} for code in codes]
    results = []
    for d in diagnostics:
        result: dict = {"ruleId": d.code, "ruleIndex": codes.index(d.code),
                        "level": "warning" if d.severity == "warning" else "error",
                        "message": {"text": _details(d)}}
        path = d.span.source.path if d.span is not None else d.file
        if path is not None:
            result["locations"] = [{"physicalLocation": _physical(path, d.span, d.label)}]
        if d.labels:
            result["relatedLocations"] = [
                {"id": i, "physicalLocation": _physical(label.span.source.path, label.span),
                 **({"message": {"text": label.text}} if label.text else {})}
                for i, label in enumerate(d.labels)]
        results.append(result)
    driver: dict = {"name": "ncdc", "version": version}
    uri = information_uri()
    if uri:  # (optional in SARIF; only a declared home page, never a guessed one)
        driver["informationUri"] = uri
    driver["rules"] = rules
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0",
            "runs": [{"tool": {"driver": driver}, "columnKind": "unicodeCodePoints", "results": results}]}


def render_sarif(diagnostics: list[Diagnostic], version: str) -> str:
    import json

    return json.dumps(sarif(diagnostics, version), indent=2, ensure_ascii=False)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(diagnostics: list[Diagnostic]) -> str:
    """The diagnostics as GitHub Actions workflow commands, one line each: `::error file=...,line=...,
    col=...,endLine=...,endColumn=...,title=CODE::message` (`::warning` for a warning).  GitHub's
    columns are inclusive, so `endColumn` is the span's last column; it is given only for a span on
    one line, which is all GitHub underlines."""
    lines = []
    for d in diagnostics:
        props: list[tuple[str, object]] = []
        span = d.span
        path = span.source.path if span is not None else d.file
        if path is not None:
            props.append(("file", path))
        if span is not None:
            props += [("line", span.line), ("col", span.column), ("endLine", span.end_line)]
            if span.end_line == span.line:
                props.append(("endColumn", max(span.column, span.end_column - 1)))
        props.append(("title", d.code))
        command = "warning" if d.severity == "warning" else "error"
        joined = ",".join(f"{key}={_escape_property(str(value))}" for key, value in props)
        lines.append(f"::{command} {joined}::{_escape_data(_details(d))}")
    return "\n".join(lines)
