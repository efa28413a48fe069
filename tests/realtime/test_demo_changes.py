"""The demo's ticker changes a few scores and marks of its generated files,
keeping every other row and the header as they were."""

from __future__ import annotations

import csv
from pathlib import Path

from hub.demo_changes import DemoChanges
from tests.support import make_district


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_a_tick_changes_three_scores_and_three_marks_and_nothing_else(tmp_path: Path) -> None:
    folder = make_district(tmp_path / "d", 50)
    before = {name: _rows(folder / name) for name in ("results.csv", "attendance.csv")}
    changed = DemoChanges(folder, count=3, seed=1).change_once()
    assert len(changed) == 6
    for name, field in (("results.csv", "score"), ("attendance.csv", "attendanceStatus")):
        after = _rows(folder / name)
        assert [row["sourcedId"] for row in after] == [row["sourcedId"] for row in before[name]]
        differs = [new["sourcedId"] for old, new in zip(before[name], after, strict=True) if old != new]
        assert len(differs) == 3 and set(differs) <= set(changed)
        for old, new in zip(before[name], after, strict=True):
            if old != new:
                assert old[field] != new[field] and {k for k in old if old[k] != new[k]} <= {
                    field,
                    "dateLastModified",
                }
