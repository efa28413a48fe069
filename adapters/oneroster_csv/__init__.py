"""The ``oneroster-csv`` adapter: OneRoster 1.1 and 1.2 bulk CSV sets (folder or zip).

Registered under the ``homeroom.adapters`` entry point as ``oneroster-csv``::

    [[sources]]
    name = "sis"
    kind = "oneroster-csv"
    path = "/srv/exports/oneroster.zip"

Besides the OneRoster files it reads two Homeroom extension files,
``courseGrades.csv`` and ``attendance.csv``, and the ``metadata.programs`` and
``metadata.directoryOptOut`` columns of ``demographics.csv``.
"""

from adapters.oneroster_csv.adapter import OneRosterCsvAdapter, OneRosterCsvConfig
from hub.sdk import AdapterSpec

__all__ = ["SPEC", "OneRosterCsvAdapter", "OneRosterCsvConfig"]

SPEC: AdapterSpec[OneRosterCsvConfig] = AdapterSpec(
    kind="oneroster-csv",
    config=OneRosterCsvConfig,
    create=OneRosterCsvAdapter,
    summary="OneRoster 1.1/1.2 bulk CSV set (folder or zip), with Homeroom's grade and attendance files",
)
