"""Source text and spans: every node and every diagnostic points back into the spec."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, repr=False)
class Source:
    path: str
    text: str

    def line(self, number: int) -> str:
        lines = self.text.splitlines()
        return lines[number - 1] if 0 < number <= len(lines) else ""


@dataclass(frozen=True)
class Span:
    """A region of a source file; lines and columns are 1-based, `end_column` is exclusive."""

    source: Source = field(repr=False, compare=False)
    line: int
    column: int
    end_line: int
    end_column: int

    @property
    def location(self) -> str:
        return f"{self.source.path}:{self.line}:{self.column}"

    @property
    def text(self) -> str:
        lines = self.source.text.splitlines()[self.line - 1 : self.end_line]
        if not lines:
            return ""
        if len(lines) == 1:
            return lines[0][self.column - 1 : self.end_column - 1]
        return "\n".join([lines[0][self.column - 1 :], *lines[1:-1], lines[-1][: self.end_column - 1]])

    def to(self, other: Span) -> Span:
        """The span from the start of `self` to the end of `other`."""
        return Span(self.source, self.line, self.column, other.end_line, other.end_column)
