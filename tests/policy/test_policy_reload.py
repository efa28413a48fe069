"""Hot reload: a change takes over only when it loads and passes its tests."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from hub.policy import Catalogue, PolicyError, PolicyRejected, PolicyStore, ReloadOutcome, reload

GRANT_EMAIL = "p, guardian, Student.email, read, guardian, allow\n"


def _append(folder: Path, text: str) -> None:
    policy = folder / "policy.csv"
    policy.write_text(policy.read_text() + text)


def test_a_good_change_is_swapped_in(shipped_copy: Path, catalogue: Catalogue) -> None:
    store = PolicyStore(shipped_copy, catalogue)
    before = store.current
    assert not before.decide("guardian", "Student.email", "guardian")
    _append(shipped_copy, GRANT_EMAIL)
    outcome = store.try_reload()
    assert outcome.swapped and outcome.accepted
    assert outcome.previous_version == before.version != outcome.version == store.version
    assert store.current.decide("guardian", "Student.email", "guardian")
    assert store.last_error is None and store.last_reload_at == outcome.at
    # a request that grabbed the old engine keeps deciding under it
    assert not before.decide("guardian", "Student.email", "guardian")


def test_a_broken_change_keeps_the_old_policy_and_says_why(
    shipped_copy: Path, catalogue: Catalogue, caplog: pytest.LogCaptureFixture
) -> None:
    store = PolicyStore(shipped_copy, catalogue)
    before = store.current
    _append(shipped_copy, "p, guardian, Student.emial, read, guardian, allow\n")
    with caplog.at_level(logging.WARNING, logger="homeroom.policy"):
        outcome = store.try_reload()
    assert not outcome.swapped and not outcome.accepted
    assert store.current is before and outcome.version == before.version
    assert outcome.reason is not None and "policy does not load" in outcome.reason
    assert "policy.csv:" in outcome.reason and "unknown field 'emial' of Student" in outcome.reason
    assert store.last_error == outcome.reason
    assert "policy change refused; still using version" in caplog.text


def test_an_allow_under_a_deny_is_taken_and_changes_nothing(shipped_copy: Path, catalogue: Catalogue) -> None:
    store = PolicyStore(shipped_copy, catalogue)
    _append(shipped_copy, "p, teacher, Student.birthDate, read, teacher, allow\n")
    outcome = store.try_reload()
    assert outcome.swapped  # the teacher deny still wins, so every case passes
    assert not store.current.decide("teacher", "Student.birthDate", "teacher")


def test_a_change_that_breaks_an_expectation_is_refused(shipped_copy: Path, catalogue: Catalogue) -> None:
    store = PolicyStore(shipped_copy, catalogue)
    before = store.current
    _append(shipped_copy, "p, guardian, Student.programs, read, guardian, allow\n")
    outcome = store.try_reload()
    assert store.current is before and not outcome.swapped
    assert outcome.reason is not None
    assert outcome.reason.startswith("1 of ")
    assert "guardian does not read programs, demographics or classmates" in outcome.reason
    assert "Student.programs should be denied as guardian" in outcome.reason


def test_an_unchanged_folder_is_not_swapped(shipped_copy: Path, catalogue: Catalogue) -> None:
    store = PolicyStore(shipped_copy, catalogue)
    before = store.current
    outcome = store.try_reload()
    assert outcome == ReloadOutcome(False, before.version, before.version, None, outcome.at)
    assert store.current is before


def test_a_store_refuses_to_start_on_a_broken_policy(shipped_copy: Path, catalogue: Catalogue) -> None:
    _append(shipped_copy, "p, guardian, Student.*, read, nowhere, allow\n")
    with pytest.raises(PolicyError) as raised:
        PolicyStore(shipped_copy, catalogue)
    assert isinstance(raised.value, PolicyRejected)
    assert "unknown relation 'nowhere'" in str(raised.value)


async def test_watch_reloads_on_change_until_stopped(shipped_copy: Path, catalogue: Catalogue) -> None:
    store = PolicyStore(shipped_copy, catalogue)
    outcomes: asyncio.Queue[ReloadOutcome] = asyncio.Queue()
    stop = asyncio.Event()
    watcher = asyncio.create_task(
        store.watch(
            stop, on_outcome=outcomes.put_nowait, debounce_ms=50, force_polling=True, poll_delay_ms=20
        )
    )
    await asyncio.sleep(0.3)  # let the watcher take its first look at the folder
    _append(shipped_copy, GRANT_EMAIL)
    outcome = await asyncio.wait_for(outcomes.get(), timeout=10)
    assert outcome.swapped
    assert store.current.decide("guardian", "Student.email", "guardian")
    stop.set()
    await asyncio.wait_for(watcher, timeout=10)


def test_an_unexpected_failure_is_a_refusal(
    shipped_copy: Path, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = PolicyStore(shipped_copy, catalogue)
    before = store.current

    def explode(directory: Path, catalogue: Catalogue) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(reload, "load_checked_engine", explode)
    outcome = store.try_reload()
    assert store.current is before
    assert outcome.reason == "policy could not be loaded: RuntimeError: disk on fire"
