"""What an adapter reports about the data it loaded: counts and rejected rows."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One row the adapter could not (fully) accept.

    ``where`` names the place (a file, an endpoint), ``line`` the 1-based line
    or record number, ``reason`` what is wrong and ``column`` which column.
    Never the offending value when it may be personal data.
    """

    where: str
    line: int
    reason: str
    column: str | None = None
    rejected: bool = True

    def __str__(self) -> str:
        column = f" column {self.column}" if self.column else ""
        verdict = "rejected" if self.rejected else "accepted with a warning"
        return f"{self.where}:{self.line}:{column} {self.reason} ({verdict})"


@dataclass(slots=True)
class LoadReport:
    """The outcome of ``Adapter.open``: records per entity and problems found."""

    counts: dict[str, int] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def rejected(self) -> list[RowProblem]:
        """Problems that cost a row."""
        return [p for p in self.problems if p.rejected]
