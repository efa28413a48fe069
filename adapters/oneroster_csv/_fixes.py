"""How a district's data team fixes each problem the reader reports.

The loader's messages say what is wrong; this table adds what to change in
the export, looked up by the start of the message. Only problems are looked
up, never rows, so the table costs nothing on a clean file.
"""

from __future__ import annotations

__all__ = ["fix_for"]

# (start of the reason, fix). The first match wins: keep the longer starts first.
_FIXES: tuple[tuple[str, str], ...] = (
    ("required value is blank", "fill the column in"),
    ("required ", "fill the column with the sourcedId of a row of the referenced file"),
    ("no known ", "fill the column with the sourcedId of a row of the referenced file"),
    (" reference is blank", "fill the column with the sourcedId of a row of the referenced file"),
    ("no such ", "use a sourcedId that exists in the referenced file, or add that row"),
    ("duplicate sourcedId", "give every row of the file its own sourcedId"),
    ("sourcedId is blank", "give the row its sourcedId"),
    ("no sourcedId column", "add the sourcedId column to the header"),
    ("row has ", "quote cells that contain commas; every row needs as many cells as the header"),
    ("not readable as CSV", "check the quotes on this line: a quote opened and never closed"),
    ("unknown column ignored", "remove the column, or rename it to a OneRoster column"),
    ("column appears twice", "remove the second copy of the column"),
    ("column spelled ", "rename the column to the name OneRoster spells"),
    ("not UTF-8", "export the file as UTF-8"),
    ("unknown status", "use active or tobedeleted (or leave blank in a bulk file)"),
    ("user has no role", "add a roles.csv row (1.2) or fill users.csv's role column (1.1)"),
    ("no role row; served as", "add a roles.csv row (1.2) or fill users.csv's role column (1.1)"),
    ("user has staff and guardian roles", "give the person two users, one per role, if both are needed"),
    ("no manifest.csv", "add a manifest.csv listing each file as bulk"),
    ("file not listed in manifest.csv", "list the file in manifest.csv as file.<name>,bulk"),
    ("unknown OneRoster version", "set oneroster.version to 1.1 or 1.2 in manifest.csv"),
    ("not one of the known values", "use a value the OneRoster specification lists for this column"),
    ("not a number", "write a plain number, with a dot for decimals"),
    ("not a finite number", "write a plain number"),
    ("cannot read ", "export the file again: it is damaged inside the zip"),
    ("not a file Homeroom reads", "nothing to fix if the file is for another system"),
    (" unknown ", "use sourcedIds that exist in the referenced file"),
    (" rows have fewer cells", "end every row with as many commas as the header has columns"),
    (" rows end in extra empty cells", "remove the trailing commas"),
    ("row holds an unquoted list", "put a cell that holds a list in double quotes"),
)


def fix_for(reason: str) -> str | None:
    """The fix for a problem ``reason``, or ``None`` when its message already says it."""
    if "(write " in reason or "(use " in reason:
        return None
    for start, fix in _FIXES:
        if reason.startswith(start) or (start.startswith(" ") and start in reason):
            return fix
    return None
