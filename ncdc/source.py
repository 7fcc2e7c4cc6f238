"""Source text and spans: every node and every diagnostic points back into the spec."""

from __future__ import annotations

from .nodes import field, frozen


@frozen
class Source:
    path: str
    text: str

    __repr__ = object.__repr__  # not the whole text

    @property
    def lines(self) -> list[str]:
        """The text's lines (as `str.splitlines` gives them), split once, on first use."""
        lines = self.__dict__.get("_lines")
        if lines is None:
            lines = self.text.splitlines()
            object.__setattr__(self, "_lines", lines)  # a cache: the text itself never changes
        return lines

    def line(self, number: int) -> str:
        lines = self.lines
        return lines[number - 1] if 0 < number <= len(lines) else ""


@frozen
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
        lines = self.source.lines[self.line - 1 : self.end_line]
        if not lines:
            return ""
        if len(lines) == 1:
            return lines[0][self.column - 1 : self.end_column - 1]
        return "\n".join([lines[0][self.column - 1 :], *lines[1:-1], lines[-1][: self.end_column - 1]])

    def to(self, other: Span) -> Span:
        """The span from the start of `self` to the end of `other`."""
        return Span(self.source, self.line, self.column, other.end_line, other.end_column)
