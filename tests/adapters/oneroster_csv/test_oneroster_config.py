"""The source table: validated at start-up, errors naming the source and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.oneroster_csv import SPEC, OneRosterCsvAdapter
from hub.federation.registry import configure_source, installed_kinds
from hub.sdk import Adapter, ConfigError

from .conftest import V12_FILES
from .csv_sets import write_set, zip_set


def test_the_kind_is_registered_as_an_entry_point() -> None:
    assert installed_kinds()["oneroster-csv"] is SPEC


def test_a_folder_or_zip_builds_an_adapter(tmp_path: Path) -> None:
    folder = write_set(tmp_path / "s", V12_FILES)
    archive = zip_set(folder, tmp_path / "s.zip")
    for path in (folder, archive):
        adapter = configure_source(
            {"name": "sis", "kind": "oneroster-csv", "path": str(path)}, {"oneroster-csv": SPEC}
        )
        assert isinstance(adapter, OneRosterCsvAdapter)
        assert isinstance(adapter, Adapter)
        assert adapter.name == "sis"


@pytest.mark.parametrize(
    ("path", "reason"),
    [("missing-folder", "does not exist"), ("notes.txt", "neither a folder nor a .zip")],
)
def test_a_bad_path_fails_at_start_up_naming_source_and_key(tmp_path: Path, path: str, reason: str) -> None:
    (tmp_path / "notes.txt").write_text("not a zip")
    table = {"name": "sis", "kind": "oneroster-csv", "path": str(tmp_path / path)}

    with pytest.raises(ConfigError, match=reason) as caught:
        configure_source(table, {"oneroster-csv": SPEC})

    assert (caught.value.source, caught.value.key) == ("sis", "path")


def test_path_is_required_and_unknown_keys_are_refused() -> None:
    with pytest.raises(ConfigError) as missing:
        configure_source({"name": "sis", "kind": "oneroster-csv"}, {"oneroster-csv": SPEC})
    assert missing.value.key == "path"

    with pytest.raises(ConfigError) as typo:
        configure_source(
            {"name": "sis", "kind": "oneroster-csv", "path": ".", "pth": "."}, {"oneroster-csv": SPEC}
        )
    assert typo.value.key == "pth"
