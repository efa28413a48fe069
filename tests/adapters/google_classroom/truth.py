"""The generated district's ground truth (its CSV files), as a hub over Classroom
must answer it: rosters as of the district's "today" (Classroom keeps current
members only), and results through the documented Classroom translation
(see ``adapters.google_classroom._sim_data`` and ``_mapping``)."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

from tests.support import TODAY

STATUS = {
    "fully graded": "FULLY_GRADED",
    "partially graded": "PARTIALLY_GRADED",  # the score is a draft grade: not disclosed
    "submitted": "SUBMITTED",
    "not submitted": "NOT_SUBMITTED",
}
TURNED_IN = {"fully graded", "partially graded", "submitted"}


def rows(district: Path, name: str) -> list[dict[str, str]]:
    with (district / name).open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def running(row: dict[str, str]) -> bool:
    begin, end = row["beginDate"], row["endDate"]
    return (not begin or dt.date.fromisoformat(begin) <= TODAY) and (
        not end or dt.date.fromisoformat(end) >= TODAY
    )


def expected_score(result: dict[str, str], email: str) -> tuple[Any, ...]:
    status = result["scoreStatus"]
    score = float(result["score"]) if status == "fully graded" and result["score"] else None
    submitted = result["scoreDate"] if status in TURNED_IN else None
    return (email, score, STATUS[status], result["late"] == "true", submitted)


def ground_truth(district: Path) -> dict[str, dict[str, Any]]:
    """Section title -> location, students (e-mail, given, family) and assignments with scores."""
    users = {row["sourcedId"]: row for row in rows(district, "users.csv")}
    categories = {row["sourcedId"]: row["title"] for row in rows(district, "categories.csv")}
    roster: dict[str, set[str]] = defaultdict(set)
    for row in rows(district, "enrollments.csv"):
        if row["role"] == "student" and running(row):
            roster[row["classSourcedId"]].add(row["userSourcedId"])
    results: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows(district, "results.csv"):
        results[row["lineItemSourcedId"]].append(row)
    assignments: dict[str, dict[str, Any]] = defaultdict(dict)
    for item in rows(district, "lineItems.csv"):
        scores = sorted(
            expected_score(result, users[result["studentSourcedId"]]["email"])
            for result in results[item["sourcedId"]]
            if result["studentSourcedId"] in roster[item["classSourcedId"]]
            and result["scoreStatus"] != "exempt"
        )
        assignments[item["classSourcedId"]][item["title"]] = {
            "pointsPossible": float(item["resultValueMax"]),
            "dueDate": dt.datetime.fromisoformat(item["dueDate"].replace("Z", "+00:00")),
            "assignDate": dt.datetime.fromisoformat(item["assignDate"].replace("Z", "+00:00")),
            "category": categories[item["categorySourcedId"]],
            "scores": scores,
        }
    truth: dict[str, dict[str, Any]] = {}
    for section in rows(district, "classes.csv"):
        students = sorted(
            (users[s]["email"], users[s]["givenName"], users[s]["familyName"])
            for s in roster[section["sourcedId"]]
        )
        assert section["title"] not in truth, "class titles repeat: key the truth differently"
        truth[section["title"]] = {
            "location": section["location"] or None,
            "students": students,
            "assignments": assignments[section["sourcedId"]],
        }
    return truth
