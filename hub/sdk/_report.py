"""What an adapter reports about the data it loaded: counts, rows per file and problems.

Also how the report is shown to a district's data team (``homeroom sources
check --details``, ``homeroom demo``): rows per file, then each problem as
``file:line column: reason (how to fix)``, rows sharing a problem grouped on
one line. The report names files, lines, columns and reasons only: adapters
never put a cell's value into a problem, and the rendering adds none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["FileStats", "LoadReport", "ProblemGroup", "RowProblem", "group_problems", "render_report"]


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One row the adapter could not (fully) accept.

    ``where`` names the place (a file, an endpoint), ``line`` the 1-based line
    or record number (0: the file as a whole), ``reason`` what is wrong,
    ``column`` which column and ``fix`` how the data team can fix it. Never
    the offending value when it may be personal data.
    """

    where: str
    line: int
    reason: str
    column: str | None = None
    rejected: bool = True
    fix: str | None = None

    def __str__(self) -> str:
        column = f" column {self.column}" if self.column else ""
        verdict = "rejected" if self.rejected else "accepted with a warning"
        fix = f"; {self.fix}" if self.fix else ""
        return f"{self.where}:{self.line}:{column} {self.reason} ({verdict}{fix})"


@dataclass(slots=True)
class FileStats:
    """Rows of one file (or endpoint): read, and what became of them.

    ``accepted`` includes ``warned`` (accepted with a warning); ``skipped``
    rows were read but say they are gone (``tobedeleted``), not problems.
    """

    read: int = 0
    accepted: int = 0
    warned: int = 0
    rejected: int = 0
    skipped: int = 0


@dataclass(slots=True)
class LoadReport:
    """The outcome of ``Adapter.open``: records per entity, rows per file and problems found.

    ``files`` is filled by adapters that read files (``{}`` otherwise).
    """

    counts: dict[str, int] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)
    files: dict[str, FileStats] = field(default_factory=dict)

    @property
    def rejected(self) -> list[RowProblem]:
        """Problems that cost a row."""
        return [p for p in self.problems if p.rejected]

    def totals(self) -> dict[str, int]:
        """Rows over every file: read, accepted, accepted with warnings, rejected,
        skipped (counts only: what ``/healthz`` shows)."""
        files = self.files.values()
        return {
            "read": sum(f.read for f in files),
            "accepted": sum(f.accepted for f in files),
            "acceptedWithWarnings": sum(f.warned for f in files),
            "rejected": sum(f.rejected for f in files),
            "skipped": sum(f.skipped for f in files),
        }

    def as_json(self) -> dict[str, Any]:
        """The whole report as JSON-ready data (``sources check --json``)."""
        return {
            "counts": dict(self.counts),
            "totals": self.totals(),
            "files": {where: asdict(stats) for where, stats in self.files.items()},
            "problems": [group.as_json() for group in group_problems(self.problems)],
        }


@dataclass(frozen=True, slots=True)
class ProblemGroup:
    """Rows of one file sharing one problem: ``lines`` in file order."""

    where: str
    column: str | None
    reason: str
    fix: str | None
    rejected: bool
    lines: tuple[int, ...]

    def __str__(self) -> str:
        shown = _line_ranges(self.lines)
        place = f"{self.where}:{shown}" if shown else self.where
        column = f" {self.column}" if self.column else ""
        fix = f" ({self.fix})" if self.fix else ""
        rows = f" [{len(self.lines)} rows]" if len(self.lines) > 1 else ""
        verdict = "rejected" if self.rejected else "warning "
        return f"{verdict}  {place}{column}: {self.reason}{fix}{rows}"

    def as_json(self) -> dict[str, Any]:
        """JSON-ready; ``lines`` in full."""
        return {
            "file": self.where,
            "lines": list(self.lines),
            "column": self.column,
            "reason": self.reason,
            "fix": self.fix,
            "rejected": self.rejected,
        }


def group_problems(problems: Iterable[RowProblem]) -> list[ProblemGroup]:
    """One group per file, column, reason and verdict; rejections first, then file order."""
    groups: dict[tuple[str, str | None, str, bool], list[RowProblem]] = {}
    for problem in problems:
        groups.setdefault((problem.where, problem.column, problem.reason, problem.rejected), []).append(
            problem
        )
    out = [
        ProblemGroup(
            where,
            column,
            reason,
            members[0].fix,
            rejected,
            tuple(sorted({p.line for p in members if p.line > 0})),
        )
        for (where, column, reason, rejected), members in groups.items()
    ]
    first = {where: index for index, where in enumerate(dict.fromkeys(p.where for p in out))}
    out.sort(key=lambda g: (not g.rejected, first[g.where], g.lines[:1]))
    return out


def _line_ranges(lines: tuple[int, ...], limit: int = 8) -> str:
    """``3,5,7-9``: runs of consecutive lines as ranges, at most ``limit`` pieces."""
    pieces: list[str] = []
    start = previous = None
    for line in [*lines, None]:
        if line is not None and previous is not None and line == previous + 1:
            previous = line
            continue
        if start is not None:
            pieces.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = line
    if len(pieces) > limit:
        pieces = [*pieces[:limit], f"... ({len(lines)} lines)"]
    return ",".join(pieces)


_HEADER = ("FILE", "READ", "ACCEPTED", "WITH WARNINGS", "REJECTED", "SKIPPED")


def render_report(report: LoadReport, *, limit: int | None = None) -> list[str]:
    """The report as text lines: rows per file, then the grouped problems
    (the first ``limit`` groups, then how many more)."""
    rows = [
        (where, str(f.read), str(f.accepted), str(f.warned), str(f.rejected), str(f.skipped))
        for where, f in report.files.items()
    ]
    lines: list[str] = []
    if rows:
        widths = [max(len(row[i]) for row in [_HEADER, *rows]) for i in range(len(_HEADER))]
        for row in [_HEADER, *rows]:
            cells = [
                row[0].ljust(widths[0]),
                *(cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)),
            ]
            lines.append("  ".join(cells).rstrip())
    groups = group_problems(report.problems)
    if not groups:
        lines.append("no problems")
        return lines
    lines.append(f"{len(groups)} problem(s), as file:line column: reason (how to fix):")
    shown = groups if limit is None else groups[:limit]
    lines += [f"  {group}" for group in shown]
    if len(shown) < len(groups):
        lines.append(f"  ... and {len(groups) - len(shown)} more")
    return lines
